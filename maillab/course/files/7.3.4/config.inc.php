<?php
//
// Configuration Roundcube 1.6 : référence maillab (chapitre 7.3.4)
//
// Le paquet Debian installe Roundcube dans /usr/share/roundcube, sa
// configuration dans /etc/roundcube et sa base SQLite avec dbconfig-common.

$config = [];
include("/etc/roundcube/debian-db-roundcube.php");
// Clé de chiffrement propre à cette machine (générée par maillab, jamais
// copiée d'un tutoriel) :
include(__DIR__ . '/des_key.inc.php');

// === SERVEURS MAIL ===
// Roundcube 1.6 : imap_host et smtp_host remplacent default_host,
// default_port, smtp_server et smtp_port ; le port va dans l'URL.
$config['imap_host'] = ['ssl://@HOSTNAME@:993' => 'Serveur Mail Entreprise'];
$config['smtp_host'] = 'ssl://@HOSTNAME@:465';
$config['smtp_user'] = '%u';
$config['smtp_pass'] = '%p';

// Le certificat est auto-signé : on le fait reconnaître au lieu de couper
// la vérification (verify_peer => false accepterait n'importe quel serveur).
$config['imap_conn_options'] = [
    'ssl' => ['verify_peer' => true, 'verify_peer_name' => true,
              'cafile' => '/etc/ssl/certs/postfix.pem'],
];
$config['smtp_conn_options'] = [
    'ssl' => ['verify_peer' => true, 'verify_peer_name' => true,
              'cafile' => '/etc/ssl/certs/postfix.pem'],
];
// Options du plugin managesieve (ManageSieve de Dovecot, port 4190)
$config['managesieve_host'] = 'tls://@HOSTNAME@';
$config['managesieve_conn_options'] = [
    'ssl' => ['verify_peer' => true, 'verify_peer_name' => true,
              'cafile' => '/etc/ssl/certs/postfix.pem'],
];

// === PARAMÈTRES GÉNÉRAUX ===
$config['product_name'] = 'Webmail MonEntreprise';
$config['support_url'] = 'mailto:admin@@DOMAIN@';

// === INTERFACE ===
$config['language'] = 'fr_FR';
$config['skin'] = 'elastic';
$config['timezone'] = 'Europe/Paris';

// === SÉCURITÉ ===
$config['force_https'] = true;
// Durée de session en minutes
$config['session_lifetime'] = 30;
// (referer_check n'existe plus en 1.6 : la protection CSRF est intégrée.)

// === FONCTIONNALITÉS ===
$config['plugins'] = [
    'filesystem_attachments',
    'jqueryui',
    'emoticons',
    'archive',
    'zipdownload',
    'managesieve',
];

// Taille maximale d'un message (même limite que Postfix ; PHP doit suivre :
// voir upload_max_filesize et post_max_size dans le site Apache)
$config['max_message_size'] = '50M';

// === DOSSIERS ===
$config['drafts_mbox'] = 'Drafts';
$config['junk_mbox'] = 'Junk';
$config['sent_mbox'] = 'Sent';
$config['trash_mbox'] = 'Trash';
// (default_folders n'existe plus en 1.6 : les dossiers spéciaux ci-dessus
//  suffisent, et Dovecot les crée lui-même.)
$config['create_default_folders'] = true;

// === LOGS ===
// (log_level n'existe plus en 1.6.)
$config['log_driver'] = 'file';
$config['log_dir'] = '/var/log/roundcube/';
