#!/bin/bash
#
# Statistiques anti-spam quotidiennes : référence maillab
#
# Le total compte les messages que spamd a vraiment analysés ("clean
# message" ou "identified spam"), et non les lignes postfix/pickup, qui ne
# voient que le courrier déposé localement.

LOG_FILE="/var/log/spam-stats.log"
MAIL_LOG="/var/log/mail.log"
TODAY=${1:-$(date '+%Y-%m-%d')}

# rsyslog (Debian 12) date chaque ligne au format 2026-12-04T07:29:22...
today_lines() { grep -a "^$TODAY" "$MAIL_LOG"; }

SPAM_MAILS=$(today_lines | grep -c "spamd\[[0-9]*\]: spamd: identified spam")
HAM_MAILS=$(today_lines | grep -c "spamd\[[0-9]*\]: spamd: clean message")
TOTAL_MAILS=$((SPAM_MAILS + HAM_MAILS))

if [ "$TOTAL_MAILS" -gt 0 ]; then
    SPAM_PERCENT=$(echo "scale=1; $SPAM_MAILS * 100 / $TOTAL_MAILS" | bc)
else
    SPAM_PERCENT=0
fi

echo "[$TODAY] Total: $TOTAL_MAILS, Spam: $SPAM_MAILS ($SPAM_PERCENT%), Ham: $HAM_MAILS" >> "$LOG_FILE"

echo "[$TODAY] Statistiques Bayes:" >> "$LOG_FILE"
runuser -u debian-spamd -- sa-learn --dump magic 2>/dev/null \
    | grep -E "n(ham|spam)" >> "$LOG_FILE"
