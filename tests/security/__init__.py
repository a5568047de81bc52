"""Security review (issue 9): each finding's behaviour, against the real stack."""
