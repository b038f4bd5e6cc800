"""Date and number formats overriding Django's defaults per language."""
