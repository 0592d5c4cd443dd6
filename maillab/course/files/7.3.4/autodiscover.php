<?php
// Réponse Autodiscover d'Outlook : le fichier XML voisin, avec l'adresse
// que le client envoie (<EMailAddress>) à la place de %EMAILADDRESS%.
header('Content-Type: application/xml; charset=utf-8');
$request = file_get_contents('php://input');
$address = '%EMAILADDRESS%';
if (preg_match('#<EMailAddress>([^<]{1,254})</EMailAddress>#i', $request, $m)) {
    $address = htmlspecialchars($m[1], ENT_XML1);
}
echo str_replace('%EMAILADDRESS%', $address, file_get_contents(__DIR__ . '/autodiscover.xml'));
