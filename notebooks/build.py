"""Write the chapter's notebooks (one per section, in French), without outputs.

    .venv/bin/python notebooks/build.py

Each notebook is a list of cells below: ("md", text) or ("py", code).

Known shortcomings:
- A section notebook catches up its own section only (`provision(section=)`):
  the sections before it must be done, by hand or with
  `maillab provision --until`.  On a fresh box, 02 and later expect 01 first.
- The chapter's snippets are short excerpts written into the cells, not the
  verbatim fixtures of tests/fixtures/config (which the notebooks cannot
  reach from a student's copy).
- 05 starts the outside mail host and leaves it running (it is shared).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

SETUP = """\
import os

import maillab

BOX = os.environ.get("MAILLAB_BOX", "default")
lab = maillab.connect(box=BOX)
adresse = lab.backend.settings.hostname
print(f"Connecté à {lab.name}, adresse {adresse}")"""

SHOW_PROBE = """\
def montrer(resultat):
    \"\"\"Une ligne par sonde : verdict, résumé, d'où elle part et où elle va.\"\"\"
    print(f"{resultat.status.value.upper():5} {resultat.name} : {resultat.summary}")
    print(f"      {resultat.source or '?'} → {resultat.destination}")"""

LINT = """\
import tempfile
from pathlib import Path

from maillab.config.lint import lint_paths


def linter(texte, nom, format=None):
    \"\"\"Analyse un extrait, écrit dans un fichier temporaire hors du lab.\"\"\"
    chemin = Path(tempfile.mkdtemp()) / nom
    chemin.write_text(texte)
    constats = lint_paths([str(chemin)], format=format)
    for c in constats:
        print(f"ligne {c.line} [{c.severity}] {c.code} : {c.message}")
        print(f"    correction : {c.fix}")
    print(f"{len(constats)} constat(s)")"""

PASSWORDS = """\
from maillab.course.lab import read_passwords

mots_de_passe = read_passwords(lab)  # secret : on s'en sert, on ne l'affiche jamais
print("Comptes connus :", ", ".join(sorted(mots_de_passe)))"""


def provision_cell(section: str) -> str:
    return f"""\
from maillab.course import provision

for etape in provision(lab, section="{section}"):
    print(etape.step.id, "→", ", ".join(etape.changes) or "inchangé")"""


def grading_cells(section: str) -> list[tuple[str, str]]:
    return [
        (
            "md",
            "## Auto-évaluation\n\nLe correcteur relit la machine "
            "sans rien modifier et note chaque exercice de la section.",
        ),
        (
            "py",
            f"""\
from maillab.grading import grade_lab
from maillab.grading.view import ReportView

vue = ReportView(grade_lab(lab, adresse, exercise="{section}"))
print(vue.summary())""",
        ),
        ("py", "vue  # le tableau détaillé (en HTML dans Jupyter)"),
    ]


DEMARRER = [
    (
        "md",
        "# Démarrer : se connecter au lab\n\nCe carnet présente la machine "
        "de travail du chapitre 7.3 : comment la joindre, voir ses services, lire "
        "un fichier et repartir de zéro.",
    ),
    (
        "md",
        "## Se connecter\n\nSans argument, `maillab.connect()` rejoint la "
        "boîte de lab par défaut. La variable d'environnement `MAILLAB_BOX` "
        "permet d'en choisir une autre.",
    ),
    ("py", SETUP),
    ("md", "Autres façons de joindre une machine (à décommenter selon votre cas) :"),
    (
        "py",
        """\
# lab = maillab.connect(vagrant="../vagrant")  # une VM Vagrant
# lab = maillab.connect("etudiant42")          # un Host de ~/.ssh/config""",
    ),
    (
        "md",
        "## L'état de la machine\n\n`machine_status` interroge la machine : "
        "nom, adresses, services du chapitre, ports à l'écoute.",
    ),
    (
        "py",
        """\
from maillab.status import machine_status

etat = machine_status(lab)
print(etat.hostname, etat.addresses)
print("Tous les services actifs :", etat.all_active)""",
    ),
    (
        "py",
        """\
for service, statut in etat.services.items():
    print(f"{service:10} {statut}")""",
    ),
    (
        "py",
        """\
for ecoute in etat.listeners:
    print(f"{ecoute.port:5} {ecoute.address:15} {ecoute.process}")""",
    ),
    (
        "md",
        "## Lancer une commande, lire un fichier\n\n`lab.run` renvoie la "
        "sortie et le code de retour ; `lab.read` rend le texte d'un fichier.",
    ),
    (
        "py",
        """\
r = lab.run("postconf mail_version", sudo=True)
print(r.exit_status, r.stdout.strip())""",
    ),
    (
        "py",
        """\
texte = lab.read("/etc/mailname")
print(texte)""",
    ),
    (
        "md",
        "## Les sauvegardes\n\n`lab.write` garde une copie datée de chaque "
        "fichier qu'il remplace, dans `/var/backups/maillab/` sur la machine. "
        "`lab.restore(chemin)` remet la plus récente.",
    ),
    (
        "py",
        """\
copies = lab.backups("/etc/postfix/main.cf")
print(len(copies), "sauvegarde(s) de main.cf")
print("\\n".join(copies[-3:]))""",
    ),
    (
        "md",
        "## Repartir de zéro\n\nDans un terminal, `maillab reset` remet la "
        "boîte dans l'état du début du chapitre (environ 2 s) ; "
        "`maillab provision --until 7.3.2` rattrape ensuite les sections voulues.",
    ),
]

POSTFIX = [
    (
        "md",
        "# 7.3.1 Postfix : recevoir et envoyer\n\nPostfix est le facteur du "
        "serveur : il reçoit sur le port 25, accepte les envois authentifiés sur "
        "587 et 465, et distribue dans les boîtes. Cette section écrit `main.cf`, "
        "`master.cf` et les alias.",
    ),
    ("py", SETUP),
    (
        "md",
        "## L'extrait du cours et son défaut\n\nLe cours met un commentaire "
        "au bout de la ligne. Pour Postfix, `#` n'ouvre un commentaire qu'en début "
        "de ligne : le commentaire fait partie de la valeur.",
    ),
    ("py", LINT),
    (
        "py",
        """\
extrait = \"\"\"\\
myhostname = mail.monentreprise.local
message_size_limit = 52428800      # 50 MB par mail
mailbox_size_limit = 1073741824    # 1 GB par boîte
\"\"\"
linter(extrait, "main.cf")""",
    ),
    (
        "md",
        "Le vrai Postfix, sur une copie de travail dans `/tmp` (la "
        "configuration en service n'est pas touchée) :",
    ),
    (
        "py",
        """\
essai = "/tmp/essai-postfix"
lab.run(f"rm -rf {essai} && mkdir {essai} && cp /etc/postfix/*.cf {essai}/", sudo=True)
ligne = "message_size_limit = 52428800      # 50 MB par mail"
lab.run(["postconf", "-c", essai, "-e", ligne], sudo=True)
r = lab.run(["postmap", "-c", essai, "-q", "root", "/etc/aliases"], sudo=True)
print("code", r.exit_status, ":", r.stderr.strip())
lab.run(["rm", "-rf", essai], sudo=True);""",
    ),
    (
        "md",
        "## La correction\n\nLe commentaire passe sur sa propre ligne "
        "(errata E1). On modifie `main.cf` soi-même : `lab.write` vérifie avec "
        "`postfix check` et remet l'ancien fichier si la vérification échoue.",
    ),
    (
        "py",
        """\
chemin = "/etc/postfix/main.cf"
lignes = [
    ligne
    for ligne in lab.read(chemin).splitlines()
    if not ligne.startswith(("message_size_limit", "# 50 Mo par message"))
]
lignes += ["# 50 Mo par message", "message_size_limit = 52428800"]
verifier = "postconf -n > /dev/null && postfix check"
ecrit = lab.write(chemin, "\\n".join(lignes) + "\\n", validate=verifier)
print("modifié :", ecrit.changed, "| sauvegarde :", ecrit.backup)""",
    ),
    ("py", 'print(lab.check_output(["postconf", "message_size_limit"], sudo=True))'),
    (
        "md",
        "## Rattraper le reste de la section\n\nLe corrigé applique le reste "
        "de 7.3.1 (TLS, ports 587/465, alias corrigés). Chaque étape dit ce "
        "qu'elle a changé.",
    ),
    ("py", provision_cell("7.3.1")),
    (
        "md",
        "## Le comportement, vu du réseau\n\nLes sondes parlent SMTP au "
        "serveur depuis la machine hôte, qui n'est pas dans `mynetworks`.",
    ),
    ("py", SHOW_PROBE),
    (
        "py",
        """\
from maillab.probes import smtp

montrer(smtp.probe_banner(address=adresse))
montrer(smtp.probe_starttls(address=adresse))
montrer(smtp.probe_smtps(address=adresse))""",
    ),
    (
        "py",
        """\
montrer(smtp.probe_relay(address=adresse))
montrer(smtp.probe_submission_requires_auth(address=adresse))
montrer(smtp.probe_size_limit(address=adresse))""",
    ),
    *grading_cells("7.3.1"),
]

DOVECOT = [
    (
        "md",
        "# 7.3.2 Dovecot : lire son courrier\n\nDovecot sert les boîtes en "
        "IMAP et POP3, reçoit le courrier de Postfix par LMTP et vérifie les mots "
        "de passe pour l'authentification SMTP.",
    ),
    ("py", SETUP),
    (
        "md",
        "## L'extrait du cours et son défaut\n\nLe cours écrit "
        "`ssl_protocols = !SSLv2 !SSLv3`. Dovecot 2.3 ne connaît plus ce réglage. "
        "Essayons sur une copie dans `/tmp` :",
    ),
    (
        "py",
        """\
essai = "/tmp/essai-dovecot.conf"
lab.write(essai, "ssl = no\\nssl_protocols = !SSLv2 !SSLv3\\n")
r = lab.run(["doveconf", "-c", essai, "-n"], sudo=True)
print("code de retour :", r.exit_status)
for ligne in sorted(set(r.stderr.splitlines())):
    print(ligne)
lab.run(["rm", "-f", essai], sudo=True);""",
    ),
    (
        "md",
        "Le code de retour est 0 : il faut lire les lignes `Error:`. "
        "Même piège avec le greffon `autocreate`, accepté par `doveconf` mais "
        "absent de Debian 12 :",
    ),
    (
        "py",
        """\
modules = lab.check_output(["ls", "/usr/lib/dovecot/modules"])
print("autocreate présent :", "autocreate" in modules)""",
    ),
    (
        "md",
        "## La correction\n\n`ssl_min_protocol = TLSv1.2` (errata E7), pas "
        "de `autocreate` (E9), la socket LMTP là où Postfix la cherche (E11). "
        "Le corrigé de la section les applique :",
    ),
    ("py", provision_cell("7.3.2")),
    ("py", 'print(lab.check_output(["doveconf", "ssl_min_protocol"]))'),
    ("md", "## Le comportement, vu du réseau"),
    ("py", SHOW_PROBE),
    ("py", PASSWORDS),
    (
        "py",
        """\
from maillab.probes import imap, pop3

montrer(imap.probe_plaintext_login(address=adresse))
jean = {"user": "jean", "password": mots_de_passe["jean"]}
montrer(imap.probe_login(address=adresse, **jean))
montrer(pop3.probe_login(address=adresse, **jean))""",
    ),
    (
        "py",
        """\
montrer(
    imap.probe_special_use(address=adresse, user="jean", password=mots_de_passe["jean"])
)""",
    ),
    *grading_cells("7.3.2"),
]

SPAM = [
    (
        "md",
        "# 7.3.3 SpamAssassin : trier les indésirables\n\nSpamAssassin note "
        "chaque message reçu sur le port 25 et marque les indésirables ; Postfix "
        "lui passe le courrier par un filtre de contenu.",
    ),
    ("py", SETUP),
    (
        "md",
        "## L'extrait du cours et ses défauts\n\nSous Debian 12, le service "
        "s'appelle `spamd`, pas `spamassassin` (errata E14) :",
    ),
    (
        "py",
        """\
r = lab.run(["systemctl", "status", "spamassassin"])
print(r.exit_status, r.stderr.strip() or r.stdout.strip())""",
    ),
    (
        "md",
        "Les règles d'en-tête du cours finissent par `$` : avec "
        "`From: Jean <jean@...>`, la ligne finit par `>` et la règle ne touche "
        "jamais (E18).",
    ),
    ("py", LINT),
    (
        "py",
        """\
extrait = \"\"\"\\
header LOCAL_INTERNAL   From =~ /monentreprise\\\\.local$/
score  LOCAL_INTERNAL   -2.0
ok_languages fr en
\"\"\"
linter(extrait, "local.cf")""",
    ),
    (
        "md",
        "## La correction\n\n`From:addr`, le greffon TextCat chargé, le "
        "filtre sur le seul service `smtp` de `master.cf` (E16) et l'utilisateur "
        "`debian-spamd` (E17). Le corrigé :",
    ),
    ("py", provision_cell("7.3.3")),
    ("py", 'print(lab.run(["systemctl", "is-active", "spamd"]).stdout.strip())'),
    (
        "md",
        "## Le comportement : le message GTUBE\n\nLa chaîne du cours a une "
        "coquille (E20). La sonde envoie la vraie chaîne par SMTP depuis "
        "l'extérieur, puis regarde où le message arrive chez marie.",
    ),
    ("py", SHOW_PROBE),
    ("py", PASSWORDS),
    (
        "py",
        """\
from maillab.probes import spam

montrer(spam.probe_gtube(address=adresse, password=mots_de_passe["marie"]))""",
    ),
    *grading_cells("7.3.3"),
]

WEBMAIL = [
    (
        "md",
        "# 7.3.4 Webmail et clients\n\nRoundcube donne accès au courrier "
        "depuis un navigateur ; l'autoconfiguration aide Thunderbird et Outlook "
        "à trouver seuls les bons serveurs.",
    ),
    ("py", SETUP),
    (
        "md",
        "## L'extrait du cours et ses défauts\n\nRoundcube 1.6.5 (paquet "
        "Debian) a renommé ou retiré plusieurs options du cours (errata E24).",
    ),
    ("py", LINT),
    (
        "py",
        """\
extrait = \"\"\"<?php
$config = [];
$config['default_host'] = 'ssl://mail.monentreprise.local';
$config['default_port'] = 993;
$config['smtp_server'] = 'tls://mail.monentreprise.local';
$config['smtp_port'] = 587;
\"\"\"
linter(extrait, "config.inc.php")""",
    ),
    (
        "md",
        "## La correction\n\n`imap_host` et `smtp_host`, la racine web du "
        "paquet (E23), un script pour l'autodiscover d'Outlook (E25). Le corrigé :",
    ),
    ("py", provision_cell("7.3.4")),
    (
        "py",
        """\
fichier = "/etc/roundcube/config.inc.php"
r = lab.run(["grep", "-E", "_host'\\]", fichier], sudo=True)
print(r.stdout.strip())""",
    ),
    ("md", "## Le comportement, vu du réseau"),
    ("py", SHOW_PROBE),
    (
        "py",
        """\
from maillab.probes import web

montrer(web.probe_https_redirect(address=adresse))
montrer(web.probe_webmail(address=adresse))
montrer(web.probe_autoconfig(address=adresse))
montrer(web.probe_autodiscover(address=adresse))""",
    ),
    *grading_cells("7.3.4"),
]

DKIM = [
    (
        "md",
        "# 7.3.5 DKIM, SPF et DMARC\n\nCes trois enregistrements DNS "
        "prouvent aux autres serveurs que notre courrier vient bien de nous : "
        "OpenDKIM signe, SPF liste nos adresses, DMARC dit quoi faire en cas "
        "d'échec.",
    ),
    ("py", SETUP),
    (
        "md",
        "## L'extrait du cours et ses défauts\n\nLe cours donne à la fois "
        "`Domain`/`Selector`/`KeyFile` et une KeyTable (E29) ; sa SigningTable à "
        "joker n'est lue qu'avec `refile:` (E26), sinon OpenDKIM ne signe rien.",
    ),
    ("py", LINT),
    (
        "py",
        """\
extrait = \"\"\"\\
Domain                  monentreprise.local
Selector                mail
KeyFile                 /etc/opendkim/keys/monentreprise.local/mail.private
KeyTable                /etc/opendkim/KeyTable
SigningTable            /etc/opendkim/SigningTable
Socket                  local:/var/spool/postfix/opendkim/opendkim.sock
\"\"\"
linter(extrait, "opendkim.conf")""",
    ),
    (
        "md",
        "## La correction\n\n`refile:` pour la SigningTable, Postfix dans le "
        "groupe `opendkim` (E27), et le vrai enregistrement DKIM dans la zone "
        "(E32). Le corrigé :",
    ),
    ("py", provision_cell("7.3.5")),
    ("py", 'print(lab.check_output(["grep", "^SigningTable", "/etc/opendkim.conf"]))'),
    (
        "md",
        "## Le comportement : ce que voit un serveur extérieur\n\nL'hôte "
        "`mx.exterieur.test` joue « Internet ». jean lui écrit en SMTP "
        "authentifié ; l'hôte vérifie DKIM, SPF et DMARC comme un gros "
        "fournisseur.",
    ),
    (
        "py",
        """\
from maillab.peer import Peer

exterieur = Peer()
exterieur.start()
print("Hôte extérieur prêt, pid", exterieur.pid)""",
    ),
    ("py", PASSWORDS),
    (
        "py",
        """\
import smtplib
import ssl
import uuid
from email.message import EmailMessage

sujet = f"Test DKIM {uuid.uuid4().hex[:8]}"
message = EmailMessage()
message["From"] = "Jean <jean@monentreprise.local>"
message["To"] = "alice@exterieur.test"
message["Subject"] = sujet
message.set_content("Bonjour Alice, ceci est un essai signé.")

contexte = ssl.create_default_context(cadata=lab.read("/etc/ssl/certs/postfix.pem"))
contexte.check_hostname = False
with smtplib.SMTP(adresse, 587, timeout=30) as client:
    client.starttls(context=contexte)
    client.login("jean@monentreprise.local", mots_de_passe["jean"])
    client.send_message(message)
print("Envoyé :", sujet)""",
    ),
    (
        "py",
        """\
recu = exterieur.wait_for(sujet, timeout=60)
for verif in recu.report["checks"]:
    print(f"{verif['name']:8} {verif['result']:8} {verif['detail']}")
print("Note du destinataire :", recu.report["score"], "/ 10")""",
    ),
    *grading_cells("7.3.5"),
]

MONITORING = [
    (
        "md",
        "# Surveillance du serveur\n\nUn tableau de bord regroupe la santé "
        "du serveur : services, enregistrements DNS, file d'attente, disque, "
        "certificat et un vrai aller-retour de message.",
    ),
    ("py", SETUP),
    (
        "md",
        "## Le script du cours et son défaut\n\nLe cours lit la taille de la "
        "file dans le cinquième mot de la dernière ligne de `postqueue -p` "
        "(errata E30). File vide, la dernière ligne est `Mail queue is empty` :",
    ),
    (
        "py",
        """\
r = lab.run("postqueue -p | tail -n1", sudo=True)
print("dernière ligne :", r.stdout.strip())
r = lab.run("postqueue -p | tail -n1 | awk '{print $5}'", sudo=True)
print("taille lue par le cours :", repr(r.stdout.strip()))""",
    ),
    ("md", "La correction compte une ligne JSON par message :"),
    (
        "py",
        """\
r = lab.run("postqueue -j | wc -l", sudo=True)
print("messages en file :", r.stdout.strip())""",
    ),
    (
        "md",
        "## Rattraper la section\n\nLe corrigé installe le script de "
        "surveillance et sa tâche cron.",
    ),
    ("py", provision_cell("monitoring")),
    (
        "md",
        "## Le tableau de bord\n\nChaque ligne suit la convention Nagios : "
        "OK, WARNING, CRITICAL, UNKNOWN. Le bouton relance toutes les mesures.",
    ),
    (
        "py",
        """\
import pandas as pd

from maillab.monitor import monitor

COULEURS = {
    "OK": "#c8e6c9", "WARNING": "#fff3b0", "CRITICAL": "#ffcdd2", "UNKNOWN": "#e0e0e0"
}


def couleur(etat):
    return f"background-color: {COULEURS[etat]}"


def tableau():
    rapport = monitor(lab, address=adresse)
    lignes = [(i.name, i.state.name, i.detail) for i in rapport.items]
    cadre = pd.DataFrame(lignes, columns=["mesure", "état", "détail"])
    style = cadre.style.map(couleur, subset=["état"])
    return rapport, style


rapport, style = tableau()
print("État global :", rapport.state.name)
style""",
    ),
    (
        "py",
        """\
import ipywidgets as widgets
from IPython.display import display

sortie = widgets.Output()
bouton = widgets.Button(description="Rafraîchir", icon="refresh")


def rafraichir(_=None):
    with sortie:
        sortie.clear_output()
        rapport, style = tableau()
        print("État global :", rapport.state.name)
        display(style)


bouton.on_click(rafraichir)
display(bouton, sortie)""",
    ),
    (
        "md",
        "## Le trafic\n\n`maillab.logs` lit `/var/log/mail.log` du lab et le "
        "range dans un tableau pandas, une ligne par ligne de journal. On en "
        "tire les comptes à la manière de pflogsumm et le verdict de spamd.",
    ),
    (
        "py",
        """\
from maillab.logs import parse_mail_log, read_mail_log, spam_stats

journal = parse_mail_log(read_mail_log(lab))
print(len(journal), "lignes lues dans mail.log")
stats = spam_stats(journal)
print(f"spamd : {stats.scanned} analysés, {stats.spam} spam, {stats.ham} légitimes")""",
    ),
    (
        "py",
        """\
%matplotlib inline
from maillab.logs import plot_traffic

plot_traffic(journal)""",
    ),
    *grading_cells("monitoring"),
]

PANNES = [
    (
        "md",
        "# Pannes à réparer : les exercices de dépannage\n\nUn lab qui marche, "
        "une panne qu'on y introduit, un symptôme tel qu'un utilisateur le "
        "décrirait : à vous de trouver la cause et de la corriger. La vérification "
        "reprend les contrôles notés du chapitre : la panne est réparée quand "
        "ils passent de nouveau.\n\nÀ faire sur un lab complet "
        "(`maillab provision --until all`).",
    ),
    ("py", SETUP),
    ("md", "## Les exercices disponibles"),
    (
        "py",
        """\
import pandas as pd

from maillab.grading.drills import load_drills

exercices = {d.id: d for d in load_drills()}
pd.DataFrame(
    [(d.id, d.section, d.title) for d in exercices.values()],
    columns=["exercice", "section", "symptôme"],
)""",
    ),
    (
        "md",
        "## Lancer une panne\n\nChoisissez un exercice. Chaque fichier modifié "
        "est sauvegardé d'abord, et `undo` remet tout en place.",
    ),
    (
        "py",
        """\
from maillab.grading import drills

exercice = exercices["aliases-equipe"]
drills.start(lab, exercice)
print(exercice.title)
print()
print(exercice.symptom)""",
    ),
    (
        "md",
        "## Enquêter\n\nLes journaux et les outils du chapitre suffisent. "
        "Quelques points de départ (en lecture seule) :",
    ),
    (
        "py",
        """\
def voir(commande):
    \"\"\"Lance une commande de diagnostic sur le lab, en root, et l'affiche.\"\"\"
    r = lab.run(commande, sudo=True)
    print(f"$ {commande}  (code {r.exit_status})")
    print(r.stdout + r.stderr)


voir("tail -n 5 /var/log/mail.log")
voir("postalias -q equipe hash:/etc/aliases")""",
    ),
    (
        "md",
        "## Vérifier\n\nRelancez cette cellule après votre correction (dans un "
        "terminal : `maillab ssh`, ou ici avec `lab.run(..., sudo=True)`).",
    ),
    (
        "py",
        """\
from maillab.grading import grade_lab
from maillab.grading.view import ReportView


def verifier():
    rapport = grade_lab(lab, adresse, checks=exercice.targets)
    print("Réparé !" if rapport.is_complete else "Pas encore réparé.")
    return ReportView(rapport)


vue = verifier()
vue""",
    ),
    ("md", "Un indice, si vous séchez :"),
    ("py", "print(exercice.hint)"),
    (
        "md",
        "## Remettre le lab en état\n\nPour abandonner, ou après avoir réparé : "
        "`undo` remet les fichiers d'origine (votre version est sauvegardée à "
        "son tour, dans /var/backups/maillab) et relance les services.",
    ),
    (
        "py",
        """\
for ligne in drills.undo(lab, exercice):
    print(ligne)
vue = verifier()
vue""",
    ),
]

NOTEBOOKS = {
    "00-demarrer.ipynb": DEMARRER,
    "01-postfix.ipynb": POSTFIX,
    "02-dovecot.ipynb": DOVECOT,
    "03-spamassassin.ipynb": SPAM,
    "04-webmail.ipynb": WEBMAIL,
    "05-dkim-spf-dmarc.ipynb": DKIM,
    "06-monitoring.ipynb": MONITORING,
    "07-pannes.ipynb": PANNES,
}


def make_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for kind, text in cells:
        if kind == "md":
            notebook.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            notebook.cells.append(nbformat.v4.new_code_cell(text))
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"c{index:02d}"
    return notebook


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        notebook = make_notebook(cells)
        nbformat.validate(notebook)
        nbformat.write(notebook, HERE / name)


if __name__ == "__main__":
    main()
