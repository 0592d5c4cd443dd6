#!/bin/bash
#
# Monitoring serveur mail complet : référence maillab
#

LOG_FILE="/var/log/mail-server-monitor.log"
DOMAIN="@DOMAIN@"
ALERTS=0

log_message() {
    echo "[$(date '+%Y-%m-%d %H:%M:%S')] $1" >> "$LOG_FILE"
}

alert() {
    log_message "$1"
    ALERTS=$((ALERTS + 1))
}

log_message "=== Début monitoring serveur mail ==="

# Vérifier les services (Debian 12 : le service anti-spam s'appelle spamd)
services=("postfix" "dovecot" "opendkim" "spamd" "named" "apache2")
for service in "${services[@]}"; do
    if systemctl is-active --quiet "$service"; then
        log_message "✓ Service $service actif"
    else
        alert "✗ ALERTE: Service $service arrêté!"
    fi
done

# Vérifier les enregistrements DNS (+short : seulement les réponses)
if dig +short TXT "$DOMAIN" | grep -q "v=spf1"; then
    log_message "✓ Enregistrement SPF présent"
else
    alert "✗ ALERTE: Enregistrement SPF manquant!"
fi

if dig +short TXT "mail._domainkey.$DOMAIN" | grep -q "v=DKIM1"; then
    log_message "✓ Enregistrement DKIM présent"
else
    alert "✗ ALERTE: Enregistrement DKIM manquant!"
fi

if dig +short TXT "_dmarc.$DOMAIN" | grep -q "v=DMARC1"; then
    log_message "✓ Enregistrement DMARC présent"
else
    alert "✗ ALERTE: Enregistrement DMARC manquant!"
fi

# Taille de la file : postqueue -j écrit un message par ligne (JSON).
# (La dernière ligne de postqueue -p ne donne pas de nombre quand la file est
#  vide : « Mail queue is empty ».)
QUEUE_SIZE=$(postqueue -j 2>/dev/null | wc -l)
if [ "$QUEUE_SIZE" -gt 100 ]; then
    alert "⚠ ATTENTION: Queue mail importante ($QUEUE_SIZE messages)"
else
    log_message "✓ Queue mail normale ($QUEUE_SIZE messages)"
fi

# Vérifier l'espace disque
DISK_USAGE=$(df --output=pcent /var | tail -1 | tr -dc '0-9')
if [ "$DISK_USAGE" -gt 80 ]; then
    alert "⚠ ATTENTION: Espace disque faible ($DISK_USAGE%)"
else
    log_message "✓ Espace disque suffisant ($DISK_USAGE%)"
fi

log_message "=== Fin monitoring serveur mail ($ALERTS alerte(s)) ==="
# Code de sortie : 0 si tout va bien, 1 s'il y a eu au moins une alerte.
[ "$ALERTS" -eq 0 ]
