"""Behaviour over the wire: SMTP, IMAP, POP3, TLS, spam and web probes."""
