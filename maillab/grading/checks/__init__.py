"""The check functions, one module per part of the lab; importing registers them."""

from maillab.grading.checks import dns, files, mail, postfix, services, web

__all__ = ["dns", "files", "mail", "postfix", "services", "web"]
