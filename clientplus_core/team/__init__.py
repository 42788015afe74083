"""Team: who acts and what they may do (access), users, sign-in (auth), the audit
trail."""
