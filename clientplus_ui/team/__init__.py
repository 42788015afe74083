"""Team widgets: sign-in, users, audit trail, bin."""
