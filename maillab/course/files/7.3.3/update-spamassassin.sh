#!/bin/bash
#
# Mise à jour quotidienne des règles SpamAssassin : référence maillab
#
# sa-update rend 0 (règles mises à jour), 1 (rien de nouveau) ou plus
# (erreur). Le laboratoire est hors ligne : l'échec est attendu, et le
# journal dit pourquoi au lieu de prétendre qu'il n'y a « rien de nouveau ».

LOG_FILE="/var/log/spamassassin-update.log"

log_message() {
    echo "[$(date '+%Y-%m-%d %H:%M:%S')] $1" >> "$LOG_FILE"
}

log_message "=== Début mise à jour SpamAssassin ==="

timeout 120 sa-update --verbose >> "$LOG_FILE" 2>&1
status=$?
case $status in
    0)
        log_message "Règles mises à jour avec succès"
        if sa-compile >> "$LOG_FILE" 2>&1; then
            log_message "Compilation réussie"
        else
            log_message "Erreur de compilation (les règles non compilées restent actives)"
        fi
        systemctl restart spamd
        log_message "Service spamd redémarré"
        ;;
    1)
        log_message "Aucune mise à jour disponible"
        ;;
    124)
        log_message "ÉCHEC : sa-update n'a pas répondu en 120 s (pas d'accès Internet ?)"
        ;;
    *)
        log_message "ÉCHEC : sa-update a rendu le code $status (pas d'accès Internet ?)"
        ;;
esac

log_message "=== Fin mise à jour SpamAssassin ==="
# Un code non nul signale l'échec à cron et au monitoring.
[ "$status" -le 1 ]
