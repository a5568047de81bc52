"""Security review: each finding's behaviour, against the real stack."""
