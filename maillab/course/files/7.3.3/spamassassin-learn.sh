#!/bin/bash
#
# Apprentissage automatique SpamAssassin : référence maillab
#
# sa-learn tourne sous debian-spamd, l'utilisateur de spamd : lancé en root,
# il écrirait une base bayes que spamd ne peut plus lire.

SPAM_DIR="/var/mail/spamassassin/spam"
HAM_DIR="/var/mail/spamassassin/ham"
LOG_FILE="/var/log/spamassassin-learn.log"

log_message() {
    echo "[$(date '+%Y-%m-%d %H:%M:%S')] $1" >> "$LOG_FILE"
}

learn() {
    local kind=$1 dir=$2 count
    count=$(find "$dir" -maxdepth 1 -type f | wc -l)
    [ "$count" -gt 0 ] || return 0
    runuser -u debian-spamd -- sa-learn "--$kind" "$dir" >> "$LOG_FILE" 2>&1
    log_message "Apprentissage $kind : $count messages"
    find "$dir" -maxdepth 1 -type f -delete
}

learn spam "$SPAM_DIR"
learn ham "$HAM_DIR"

# Statistiques
runuser -u debian-spamd -- sa-learn --dump magic >> "$LOG_FILE" 2>&1
