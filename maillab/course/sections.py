"""The reference solution of chapter 7.3, section by section.

Each section is a list of idempotent steps (see `step.py`).  The reference
follows the chapter wherever the chapter works on Debian 12, and says in a
comment where it does not (docs/errata.md has the details).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from maillab.course import zone
from maillab.course.lab import Lab, main_cf, postconf_edit
from maillab.course.step import Ensure, ManagedFile, Step

POSTFIX_CHECK = "postconf -n > /dev/null && postfix check"
# doveconf -n exits 0 even when it prints "Error:" lines: look for them.
DOVECONF_CHECK = (
    'out=$(doveconf -n 2>&1 > /dev/null); printf "%s\\n" "$out"; '
    "! printf '%s' \"$out\" | grep -qE '(Error|Fatal):'"
)
CERT = "/etc/ssl/certs/postfix.pem"
KEY = "/etc/ssl/private/postfix.key"
KEY_DIR = "/etc/opendkim/keys/monentreprise.local"
LMTP = "lmtp:unix:private/dovecot-lmtp"


@dataclass(frozen=True)
class Section:
    """One section of the chapter, as steps to apply in order."""

    id: str
    title: str
    steps: Callable[[Lab], list[Step]]


def _file(lab: Lab, name: str, path: str, **kw: object) -> ManagedFile:
    return ManagedFile(path, lab.render(name), **kw)  # type: ignore[arg-type]


# -- 7.3.1 Postfix --------------------------------------------------------------

POSTFIX_BASE = {
    "myhostname": "mail.monentreprise.local",
    "mydomain": "monentreprise.local",
    "myorigin": "$mydomain",
    # The chapter's 192.168.1.0/24 is not a network of this lab.  Only the
    # server itself is trusted: everyone else authenticates on 587/465.
    "mynetworks": "127.0.0.0/8 [::1]/128",
    "mydestination": "$myhostname, localhost.$mydomain, localhost, $mydomain",
    "relay_domains": "",
    "home_mailbox": "Maildir/",
    "mailbox_command": "",
    "disable_vrfy_command": "yes",
    "smtpd_helo_required": "yes",
    "smtpd_recipient_restrictions": (
        "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, "
        "reject_rbl_client zen.spamhaus.org, reject_rbl_client bl.spamcop.net, permit"
    ),
    "smtpd_sender_restrictions": (
        "permit_mynetworks, permit_sasl_authenticated, reject_non_fqdn_sender, "
        "reject_unknown_sender_domain, permit"
    ),
    "smtpd_helo_restrictions": (
        "permit_mynetworks, permit_sasl_authenticated, "
        "reject_non_fqdn_helo_hostname, reject_invalid_helo_hostname, permit"
    ),
    # Without the chapter's "# 50 MB": Postfix would keep it in the value.
    "message_size_limit": "52428800",
    "mailbox_size_limit": "1073741824",
    "smtpd_tls_loglevel": "1",
    "smtp_tls_loglevel": "1",
    "smtpd_sasl_type": "dovecot",
    "smtpd_sasl_path": "private/auth",
    "smtpd_sasl_security_options": "noanonymous",
    "smtpd_sasl_local_domain": "$myhostname",
    "broken_sasl_auth_clients": "yes",
    # AUTH only once the session is encrypted: no password in clear text.
    "smtpd_tls_auth_only": "yes",
}

POSTFIX_TLS = {
    "smtpd_tls_cert_file": CERT,
    "smtpd_tls_key_file": KEY,
    # smtpd_use_tls is the obsolete spelling of smtpd_tls_security_level.
    "smtpd_tls_security_level": "may",
    "smtpd_tls_session_cache_database": "btree:${data_directory}/smtpd_scache",
    "smtpd_tls_protocols": ">=TLSv1.2",
    "smtpd_tls_mandatory_protocols": ">=TLSv1.2",
    "smtp_tls_session_cache_database": "btree:${data_directory}/smtp_scache",
    "smtp_tls_security_level": "may",
    "smtp_tls_protocols": "!SSLv2, !SSLv3",
}

_SUBMISSION = {
    "syslog_name": "postfix/submission",
    "smtpd_tls_security_level": "encrypt",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_recipient_restrictions": "permit_sasl_authenticated,reject",
    "smtpd_relay_restrictions": "permit_sasl_authenticated,reject",
    "milter_macro_daemon_name": "ORIGINATING",
}
_SMTPS = {
    **_SUBMISSION,
    "syslog_name": "postfix/smtps",
    "smtpd_tls_wrappermode": "yes",
}
del _SMTPS["smtpd_tls_security_level"]


def _service_options(service: str, options: dict[str, str]) -> list[str]:
    return ["-P", "-e", *(f"{service}/{k}={v}" for k, v in options.items())]


def _certificate() -> Ensure:
    names = ",".join(
        f"DNS:{n}"
        for n in (
            "mail.monentreprise.local",
            "webmail.monentreprise.local",
            "autoconfig.monentreprise.local",
            "autodiscover.monentreprise.local",
            "monentreprise.local",
        )
    )
    return Ensure(
        "generated the TLS certificate for mail.monentreprise.local",
        f"openssl req -new -x509 -days 365 -nodes -newkey rsa:2048 -sha256 "
        f"-subj /CN=mail.monentreprise.local -addext subjectAltName={names} "
        f"-out {CERT} -keyout {KEY} 2>&1 && chmod 644 {CERT} && chmod 600 {KEY}",
        f"test -s {KEY} && openssl x509 -in {CERT} -noout -checkend 604800 "
        f"-ext subjectAltName | grep -q autodiscover",
    )


def postfix_steps(lab: Lab) -> list[Step]:
    return [
        Step(
            "7.3.1-main-cf",
            "7.3.1",
            "main.cf: names, Maildir, restrictions, TLS",
            ensure=[_certificate()],
            computed=[
                main_cf({**POSTFIX_BASE, **POSTFIX_TLS}, remove=["smtpd_use_tls"])
            ],
            validate=POSTFIX_CHECK,
            services=["postfix"],
            restart=["postfix"],
        ),
        Step(
            "7.3.1-master-cf",
            "7.3.1",
            "master.cf: 587 (STARTTLS + AUTH) and 465",
            computed=[
                postconf_edit(
                    "master.cf",
                    [
                        "-M",
                        "-e",
                        "587/inet=587 inet n - y - - smtpd",
                        "465/inet=465 inet n - y - - smtpd",
                    ],
                    _service_options("587/inet", _SUBMISSION),
                    _service_options("465/inet", _SMTPS),
                )
            ],
            validate=POSTFIX_CHECK,
            restart=["postfix"],
        ),
        Step(
            "7.3.1-aliases",
            "7.3.1",
            "aliases and lists",
            files=[_file(lab, "7.3.1/aliases", "/etc/aliases", mode=0o644)],
            after_change=["newaliases"],
        ),
    ]


# -- 7.3.2 Dovecot --------------------------------------------------------------


def dovecot_steps(lab: Lab) -> list[Step]:
    conf = "/etc/dovecot/conf.d"
    return [
        Step(
            "7.3.2-dovecot",
            "7.3.2",
            "Dovecot: IMAP, POP3, LMTP, SSL, SASL socket",
            files=[
                _file(lab, "7.3.2/dovecot.conf", "/etc/dovecot/dovecot.conf"),
                _file(lab, "7.3.2/10-auth.conf", f"{conf}/10-auth.conf"),
                _file(lab, "7.3.2/10-mail.conf", f"{conf}/10-mail.conf"),
                _file(lab, "7.3.2/10-ssl.conf", f"{conf}/10-ssl.conf"),
                _file(lab, "7.3.2/10-master.conf", f"{conf}/10-master.conf"),
            ],
            validate=DOVECONF_CHECK,
            services=["dovecot"],
            restart=["dovecot"],
        ),
        Step(
            "7.3.2-postfix-dovecot",
            "7.3.2",
            "Postfix delivers through LMTP, SASL on",
            computed=[
                main_cf(
                    {
                        "virtual_transport": LMTP,
                        "mailbox_transport": LMTP,
                        "smtpd_sasl_auth_enable": "yes",
                    }
                )
            ],
            validate=POSTFIX_CHECK,
            restart=["postfix"],
        ),
    ]


# -- 7.3.3 SpamAssassin -----------------------------------------------------------

_SPAMC = (
    "spamassassin/unix=spamassassin unix - n n - - pipe "
    "user=debian-spamd argv=/usr/bin/spamc -f -e "
    "/usr/sbin/sendmail -oi -f ${sender} ${recipient}"
)


def spamassassin_steps(lab: Lab) -> list[Step]:
    scripts = ("update-spamassassin.sh", "spamassassin-learn.sh", "spam-stats.sh")
    return [
        Step(
            "7.3.3-spamd",
            "7.3.3",
            "local.cf, custom rules and spamd",
            ensure=[
                Ensure(
                    "made the bayes folder for debian-spamd",
                    "install -d -o debian-spamd -g debian-spamd -m 0750 "
                    "/var/lib/spamassassin/.spamassassin",
                    "test -d /var/lib/spamassassin/.spamassassin",
                )
            ],
            files=[
                _file(lab, "7.3.3/local.cf", "/etc/spamassassin/local.cf"),
                _file(lab, "7.3.3/spamd", "/etc/default/spamd"),
            ],
            validate="spamassassin --lint",
            services=["spamd"],
            restart=["spamd"],
        ),
        Step(
            # The filter is on the smtp service only, not in main.cf: mail
            # that spamc re-injects through sendmail is then not filtered
            # again (main.cf's content_filter would loop forever).
            "7.3.3-postfix-filter",
            "7.3.3",
            "Postfix hands incoming mail to spamc",
            ensure=[
                Ensure(
                    "removed content_filter from main.cf",
                    "postconf -X content_filter",
                    "! postconf -n content_filter | grep -q .",
                )
            ],
            computed=[
                postconf_edit(
                    "master.cf",
                    ["-M", "-e", _SPAMC],
                    ["-P", "-e", "smtp/inet/content_filter=spamassassin"],
                )
            ],
            validate=POSTFIX_CHECK,
            restart=["postfix"],
        ),
        Step(
            "7.3.3-scripts",
            "7.3.3",
            "training folders, learning, update and stats",
            ensure=[
                Ensure(
                    "made the training folders",
                    "install -d -o debian-spamd -g debian-spamd -m 0770 "
                    "/var/mail/spamassassin /var/mail/spamassassin/spam "
                    "/var/mail/spamassassin/ham",
                    "test -d /var/mail/spamassassin/spam "
                    "-a -d /var/mail/spamassassin/ham",
                )
            ],
            files=[
                *(
                    _file(lab, f"7.3.3/{s}", f"/usr/local/bin/{s}", mode=0o755)
                    for s in scripts
                ),
                _file(
                    lab, "7.3.3/cron", "/etc/cron.d/maillab-spamassassin", mode=0o644
                ),
            ],
            validate=" && ".join(f"bash -n /usr/local/bin/{s}" for s in scripts),
        ),
    ]


# -- 7.3.4 Webmail ------------------------------------------------------------------

_DES_KEY = "/etc/roundcube/des_key.inc.php"
_SITES = ("roundcube", "autoconfig")


def webmail_steps(lab: Lab) -> list[Step]:
    return [
        Step(
            "7.3.4-roundcube",
            "7.3.4",
            "Roundcube: IMAP/SMTP over TLS, French, elastic",
            ensure=[
                Ensure(
                    "generated this machine's Roundcube des_key",
                    "umask 027 && key=$(head -c 18 /dev/urandom | base64) && "
                    "printf \"<?php\\n\\$config['des_key'] = '%s';\\n\" \"$key\""
                    f" > {_DES_KEY} && chgrp www-data {_DES_KEY}",
                    f"test -s {_DES_KEY}",
                )
            ],
            files=[
                _file(
                    lab,
                    "7.3.4/config.inc.php",
                    "/etc/roundcube/config.inc.php",
                    owner="root:www-data",
                    mode=0o640,
                )
            ],
            validate="php -l /etc/roundcube/config.inc.php",
        ),
        Step(
            "7.3.4-apache",
            "7.3.4",
            "Apache: the webmail site and client autoconfig",
            ensure=[
                Ensure(
                    "enabled mod_ssl and mod_rewrite",
                    "a2enmod -q ssl rewrite",
                    "test -e /etc/apache2/mods-enabled/ssl.load -a "
                    "-e /etc/apache2/mods-enabled/rewrite.load",
                ),
                Ensure(
                    "made /var/www/autoconfig and /var/www/autodiscover",
                    "mkdir -p /var/www/autoconfig/mail /var/www/autodiscover",
                    "test -d /var/www/autoconfig/mail -a -d /var/www/autodiscover",
                ),
                Ensure(
                    "made /var/log/roundcube",
                    "install -d -o www-data -g www-data /var/log/roundcube",
                    "test -d /var/log/roundcube",
                ),
            ],
            files=[
                _file(
                    lab,
                    f"7.3.4/{name}-site.conf",
                    f"/etc/apache2/sites-available/{name}.conf",
                )
                for name in _SITES
            ]
            + [
                _file(
                    lab,
                    "7.3.4/config-v1.1.xml",
                    "/var/www/autoconfig/mail/config-v1.1.xml",
                ),
                _file(
                    lab,
                    "7.3.4/autodiscover.xml",
                    "/var/www/autodiscover/autodiscover.xml",
                ),
                _file(
                    lab,
                    "7.3.4/autodiscover.php",
                    "/var/www/autodiscover/autodiscover.php",
                ),
            ],
            # The sites are checked with the rest of Apache's configuration
            # before they are enabled (the next step).
            validate="apachectl -t "
            + " ".join(
                f"-c 'Include /etc/apache2/sites-available/{name}.conf'"
                for name in _SITES
            ),
            restart=["apache2"],
        ),
        Step(
            "7.3.4-apache-sites",
            "7.3.4",
            "Apache: enable the sites",
            ensure=[
                Ensure(
                    "enabled the roundcube and autoconfig sites",
                    "a2ensite -q " + " ".join(_SITES),
                    " && ".join(
                        f"test -e /etc/apache2/sites-enabled/{name}.conf"
                        for name in _SITES
                    ),
                )
            ],
            validate="apachectl configtest",
            services=["apache2"],
            restart=["apache2"],
        ),
    ]


# -- 7.3.5 DKIM, SPF, DMARC -----------------------------------------------------------


def dkim_steps(lab: Lab) -> list[Step]:
    return [
        Step(
            "7.3.5-opendkim",
            "7.3.5",
            "OpenDKIM: key, tables, socket for Postfix",
            ensure=[
                Ensure(
                    "made the key folder",
                    f"install -d -o opendkim -g opendkim -m 0700 /etc/opendkim "
                    f"/etc/opendkim/keys {KEY_DIR}",
                    f"test -d {KEY_DIR}",
                ),
                Ensure(
                    "generated the DKIM key (selector mail, 2048 bits)",
                    f"opendkim-genkey -b 2048 -s mail -d monentreprise.local "
                    f"-D {KEY_DIR} && chown -R opendkim:opendkim {KEY_DIR} && "
                    f"chmod 600 {KEY_DIR}/mail.private",
                    f"test -s {KEY_DIR}/mail.private",
                ),
                Ensure(
                    "made /var/spool/postfix/opendkim",
                    "install -d -o opendkim -g postfix -m 0750 "
                    "/var/spool/postfix/opendkim",
                    "test -d /var/spool/postfix/opendkim",
                ),
                # The socket is opendkim:opendkim, mode 775 (UMask 002).
                Ensure(
                    "put postfix in the opendkim group",
                    "usermod -aG opendkim postfix",
                    "id -nG postfix | grep -qw opendkim",
                ),
            ],
            files=[
                _file(lab, "7.3.5/opendkim.conf", "/etc/opendkim.conf"),
                _file(lab, "7.3.5/KeyTable", "/etc/opendkim/KeyTable"),
                _file(lab, "7.3.5/SigningTable", "/etc/opendkim/SigningTable"),
                _file(lab, "7.3.5/TrustedHosts", "/etc/opendkim/TrustedHosts"),
            ],
            validate="opendkim -n",
            services=["opendkim"],
            restart=["opendkim"],
        ),
        Step(
            "7.3.5-postfix-milter",
            "7.3.5",
            "Postfix signs through the milter",
            computed=[
                main_cf(
                    {
                        "smtpd_milters": "unix:/opendkim/opendkim.sock",
                        "non_smtpd_milters": "unix:/opendkim/opendkim.sock",
                        "milter_default_action": "accept",
                        "milter_protocol": "6",
                    }
                )
            ],
            validate=POSTFIX_CHECK,
            restart=["postfix"],
        ),
        Step(
            "7.3.5-dns",
            "7.3.5",
            "SPF, DKIM and DMARC records in the lab's zone",
            computed=[zone.with_records(lab, f"{KEY_DIR}/mail.txt")],
            validate=f"named-checkzone {lab.domain} {zone.path(lab)}",
            after_change=[f"rndc reload {lab.domain}"],
            services=["named"],
        ),
    ]


# -- Monitoring ---------------------------------------------------------------


def monitoring_steps(lab: Lab) -> list[Step]:
    script = "/usr/local/bin/monitor-mail-server.sh"
    return [
        Step(
            "monitoring-script",
            "monitoring",
            "monitoring script, every 15 minutes",
            files=[
                _file(lab, "monitoring/monitor-mail-server.sh", script, mode=0o755),
                _file(
                    lab, "monitoring/cron", "/etc/cron.d/maillab-monitoring", mode=0o644
                ),
            ],
            validate=f"bash -n {script}",
            services=["cron"],
        ),
    ]


SECTIONS = (
    Section("7.3.1", "Postfix", postfix_steps),
    Section("7.3.2", "Dovecot (IMAP/POP3)", dovecot_steps),
    Section("7.3.3", "SpamAssassin", spamassassin_steps),
    Section("7.3.4", "Webmail et clients", webmail_steps),
    Section("7.3.5", "DKIM, SPF, DMARC", dkim_steps),
    Section("monitoring", "Monitoring", monitoring_steps),
)
