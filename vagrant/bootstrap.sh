#!/bin/bash
# maillab bootstrap: the "start of chapter" state of the lab machine.
#
# Shared by the Vagrant VM (run as the shell provisioner) and the embedded lab
# box (run by mmdebstrap hooks while the image is built).  It installs every
# package the chapter uses, the chapter's users, a `vagrant` admin user and the
# lab's own DNS.  It applies none of the chapter's configuration: that is the
# student's work.
#
#   bootstrap.sh              everything (Vagrant)
#   bootstrap.sh packages     print the package list, one a line
#   bootstrap.sh preseed      hostname, mailname and debconf answers only
#   bootstrap.sh configure    everything that comes after the packages
#   bootstrap.sh personalize  per-machine part: address, DNS zones, passwords
#
# Environment: MAILLAB_IP (192.168.56.10) and MAILLAB_HOST_IP (192.168.56.1).
# Every step is idempotent: running the script twice changes nothing more.
set -euo pipefail

LAB_HOSTNAME=mail.monentreprise.local
LAB_DOMAIN=monentreprise.local
LAB_IP=${MAILLAB_IP:-192.168.56.10}
HOST_IP=${MAILLAB_HOST_IP:-192.168.56.1}
# The outside test domain stands for "the Internet".  Its mail host is the
# maillab peer, in a network namespace of the project's, outside mynetworks.
OUTSIDE_DOMAIN=exterieur.test
OUTSIDE_MX_IP=198.51.100.25
CHAPTER_USERS=(jean marie direction)
STATE_DIR=/etc/maillab

PACKAGES=(
  systemd systemd-sysv dbus libpam-systemd openssh-server sudo
  rsyslog cron logrotate ca-certificates openssl
  iproute2 iputils-ping procps less nano vim-tiny bc file
  postfix postfix-pcre
  dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd
  dovecot-managesieved dovecot-sieve
  spamassassin spamc spamd spamass-milter
  opendkim opendkim-tools
  bind9 bind9-dnsutils bind9-utils
  apache2 libapache2-mod-php php-intl php-mbstring php-xml php-zip php-gd
  roundcube roundcube-core roundcube-sqlite3 roundcube-plugins
  swaks mailutils net-tools telnet netcat-openbsd pflogsumm
)

log() { printf 'maillab-bootstrap: %s\n' "$*"; }

step_preseed() {
  log "hostname $LAB_HOSTNAME, mailname $LAB_DOMAIN"
  echo "$LAB_HOSTNAME" > /etc/hostname
  echo "$LAB_DOMAIN" > /etc/mailname
  write_hosts
  if command -v hostname > /dev/null && [ "$(hostname)" != "$LAB_HOSTNAME" ]; then
    hostname "$LAB_HOSTNAME" 2> /dev/null || true
  fi
  debconf-set-selections <<SEL
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string $LAB_DOMAIN
postfix postfix/destinations string \$myhostname, $LAB_HOSTNAME, localhost.$LAB_DOMAIN, localhost
roundcube-core roundcube/dbconfig-install boolean true
roundcube-core roundcube/database-type select sqlite3
roundcube-core roundcube/restart-webserver boolean false
roundcube-core roundcube/reconfigure-webserver multiselect apache2
SEL
}

write_hosts() {
  cat > /etc/hosts <<HOSTS
127.0.0.1	localhost
$LAB_IP	$LAB_HOSTNAME mail
::1	localhost ip6-localhost ip6-loopback
HOSTS
}

step_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    [[ $pkg == *- ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'ok installed' \
      || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#PACKAGES[@]} packages already installed"
    return
  fi
  log "installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

step_vagrant_user() {
  if ! id vagrant > /dev/null 2>&1; then
    useradd --create-home --shell /bin/bash vagrant
    passwd --lock vagrant > /dev/null
  fi
  install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.ssh
  touch /home/vagrant/.ssh/authorized_keys
  chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys
  chmod 0600 /home/vagrant/.ssh/authorized_keys
  echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/vagrant
  chmod 0440 /etc/sudoers.d/vagrant
  install -d -m 0755 /etc/ssh/sshd_config.d
  cat > /etc/ssh/sshd_config.d/maillab.conf <<'SSHD'
# maillab: key-only SSH, no root login.
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UseDNS no
SSHD
}

step_chapter_users() {
  local user
  for user in "${CHAPTER_USERS[@]}"; do
    id "$user" > /dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
  done
  [ -s "$STATE_DIR/passwords" ] || set_passwords
}

# Random mail passwords, one per user, kept on the machine for root only.
set_passwords() {
  local user pass
  install -d -m 0755 "$STATE_DIR"
  umask 077
  : > "$STATE_DIR/passwords"
  for user in "${CHAPTER_USERS[@]}"; do
    pass=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-14)
    echo "$user:$pass" | chpasswd
    echo "$user:$pass" >> "$STATE_DIR/passwords"
  done
  chmod 0600 "$STATE_DIR/passwords"
  umask 022
}

step_dns() {
  install -d -m 0755 -o root -g bind /etc/bind/zones
  cat > /etc/bind/named.conf.options <<'OPTIONS'
// maillab: the lab's own DNS.  The lab is offline, so this server
// recurses for nobody: it answers from its own zones, and its local root
// zone answers NXDOMAIN at once for every other name (RBLs, mail-tester...).
options {
	directory "/var/cache/bind";
	recursion no;
	dnssec-validation no;
	listen-on { any; };
	listen-on-v6 { none; };
	allow-query { any; };
};
OPTIONS
  cat > /etc/bind/named.conf.local <<LOCAL
// maillab: zones of the lab.
zone "." { type primary; file "/etc/bind/zones/db.root"; };
zone "$LAB_DOMAIN" { type primary; file "/etc/bind/zones/db.$LAB_DOMAIN"; };
zone "$(reverse_zone "$LAB_IP")" { type primary; file "/etc/bind/zones/db.reverse"; };
zone "$OUTSIDE_DOMAIN" { type primary; file "/etc/bind/zones/db.$OUTSIDE_DOMAIN"; };
LOCAL
  # Debian's default zones include a hint zone for "."; ours replaces it.
  sed -i 's|^include "/etc/bind/named.conf.default-zones";|// & (maillab: own root zone)|' \
    /etc/bind/named.conf
  write_zones
  # On a DHCP-configured VM (Vagrant's NAT interface), keep dhclient from
  # putting its own resolver back at the next lease renewal.
  if [ -d /etc/dhcp/dhclient-enter-hooks.d ]; then
    echo 'make_resolv_conf() { :; }  # maillab: the lab BIND is the resolver' \
      > /etc/dhcp/dhclient-enter-hooks.d/maillab-keep-resolv-conf
  fi
  cat > /etc/resolv.conf <<RESOLV
# maillab: the lab's own BIND.
search $LAB_DOMAIN
nameserver 127.0.0.1
RESOLV
}

reverse_zone() {
  local IFS=.
  # shellcheck disable=SC2086
  set -- $1
  echo "$3.$2.$1.in-addr.arpa"
}

soa() {
  printf '$TTL 300\n@ IN SOA ns.%s. hostmaster.%s. (1 3600 600 86400 300)\n' \
    "$LAB_DOMAIN" "$LAB_DOMAIN"
  printf '@ IN NS ns.%s.\n' "$LAB_DOMAIN"
}

write_zones() {
  local z=/etc/bind/zones last=${LAB_IP##*.} host_last=${HOST_IP##*.}
  { soa; printf 'ns.%s. IN A %s\n' "$LAB_DOMAIN" "$LAB_IP"; } > "$z/db.root"
  {
    soa
    cat <<ZONE
@          IN MX 10 mail
@          IN A     $LAB_IP
ns         IN A     $LAB_IP
mail       IN A     $LAB_IP
webmail    IN A     $LAB_IP
autoconfig IN A     $LAB_IP
autodiscover IN A   $LAB_IP
hote       IN A     $HOST_IP
ZONE
  } > "$z/db.$LAB_DOMAIN"
  {
    soa
    printf '%s IN PTR %s.\n' "$last" "$LAB_HOSTNAME" "$host_last" "hote.$LAB_DOMAIN"
  } > "$z/db.reverse"
  {
    soa
    cat <<ZONE
@          IN MX 10 mx
mx         IN A     $OUTSIDE_MX_IP
ZONE
  } > "$z/db.$OUTSIDE_DOMAIN"
  chown root:bind "$z"/db.*
  chmod 0644 "$z"/db.*
}

step_services() {
  # Make sure mail.log exists from the first boot on.
  touch /var/log/mail.log
  chown root:adm /var/log/mail.log
  local unit
  for unit in ssh rsyslog cron named postfix dovecot spamd opendkim apache2; do
    systemctl enable "$unit" > /dev/null 2>&1 || log "cannot enable $unit"
  done
  # The lab is offline: sa-update and apt would only fail, so keep their timers off.
  local timer
  for timer in spamassassin-maintenance apt-daily apt-daily-upgrade; do
    systemctl disable "$timer.timer" > /dev/null 2>&1 || true
  done
}

restart_services() {
  [ -d /run/systemd/system ] || return 0
  systemctl restart named ssh || log "restart failed: see journalctl"
  # Vagrant's Debian guest restarts ifup@<iface> when it sets the hostname,
  # before it writes the private network's stanza (hashicorp/vagrant#10558):
  # that unit failed, though the interface is up now.  Let it catch up.
  local unit
  for unit in $(systemctl list-units --failed --plain --no-legend 'ifup@*.service' \
      | cut -d' ' -f1); do
    systemctl restart "$unit" || log "cannot restart $unit"
  done
}

step_personalize() {
  write_hosts
  step_dns
  set_passwords
  restart_services
}

main() {
  case "${1:-all}" in
    packages) printf '%s\n' "${PACKAGES[@]}" ;;
    preseed) step_preseed ;;
    configure)
      step_vagrant_user; step_chapter_users; step_dns; step_services ;;
    personalize) step_personalize ;;
    all)
      step_preseed; step_packages
      step_vagrant_user; step_chapter_users; step_dns; step_services
      restart_services ;;
    *) echo "usage: $0 [all|packages|preseed|configure|personalize]" >&2
       exit 2 ;;
  esac
}

main "$@"
