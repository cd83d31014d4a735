"""PDF records. The customer information sheet (COP7.4-1) is filled in by a later step."""
