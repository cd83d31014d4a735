"""Domain rules: plain functions over the database, no Flask, `now` passed in."""
