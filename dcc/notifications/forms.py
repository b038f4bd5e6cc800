"""No form: marking notifications read is a bare POST (CSRF-protected) without input."""
