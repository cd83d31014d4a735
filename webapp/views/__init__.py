"""Thin views: parse the request, call the domain, render."""
