"""The rules of Civic311 as plain functions: no request globals, no templates."""
