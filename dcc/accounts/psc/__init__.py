"""Pro Santé Connect (ANS OpenID Connect) login for health professionals."""
