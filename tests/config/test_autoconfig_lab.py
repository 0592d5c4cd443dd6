"""Autoconfig XML agreement with libxml2 on the box (through PHP's DOM).

xmllint is not installed on the Debian 12 lab box (libxml2-utils is not
among the chapter's packages), so the same library, libxml2, is reached
through php-cli's DOMDocument, which Roundcube's packages install.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.config.autoconfig import lint_autoconfig, parse_xml
from maillab.config.findings import ConfigSyntaxError
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "autoconfig"
CORPUS = sorted(p.name for p in FIXTURES.glob("*.xml"))
REFUSED_ON_PURPOSE = {"tricky-syntax-dtd.xml"}  # well-formed, but a DTD: refused

PHP = r"""
libxml_use_internal_errors(true);
$doc = new DOMDocument();
$ok = $doc->load($argv[1]);
$errors = array_map(fn($e) => [$e->line, trim($e->message)], libxml_get_errors());
$rows = [];
function walk($node, $path, &$rows) {
    $here = $path . '/' . $node->localName;
    $text = '';
    foreach ($node->childNodes as $child) {
        $type = $child->nodeType;
        if ($type == XML_TEXT_NODE || $type == XML_CDATA_SECTION_NODE)
            $text .= $child->nodeValue;
    }
    $rows[] = [$here, trim($text), $node->getLineNo(), (string) $node->namespaceURI];
    foreach ($node->childNodes as $child)
        if ($child->nodeType == XML_ELEMENT_NODE) walk($child, $here, $rows);
}
if ($ok && $doc->documentElement) walk($doc->documentElement, '', $rows);
echo json_encode(['ok' => (bool) $ok, 'errors' => $errors, 'rows' => $rows]);
"""


@pytest.fixture
def xmlfile(lab: Host) -> Iterator[str]:
    path = f"/tmp/maillab-xml-{uuid.uuid4().hex[:8]}"
    lab.run(["mkdir", path], sudo=True, check=True)
    yield f"{path}/config.xml"
    lab.run(["rm", "-rf", "--", path], sudo=True)


def libxml(lab: Host, path: str, data: bytes) -> dict[str, object]:
    lab.run(["sh", "-c", 'cat > "$1"', "sh", path], sudo=True, input=data, check=True)
    out = lab.check_output(["php", "-r", PHP, path], sudo=True)
    result: dict[str, object] = json.loads(out)
    return result


def test_xmllint_is_absent(lab: Host) -> None:
    assert not lab.run(["which", "xmllint"]).ok  # why libxml2 goes through PHP


@pytest.mark.parametrize("name", CORPUS)
def test_parser_agrees_with_libxml2(lab: Host, xmlfile: str, name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    real = libxml(lab, xmlfile, data)
    try:
        root = parse_xml(data, path=name)
    except ConfigSyntaxError as exc:
        if name in REFUSED_ON_PURPOSE:
            assert real["ok"] is True
            assert [f.code for f in lint_autoconfig(data)] == ["autoconfig.syntax"]
            return
        assert real["ok"] is False
        lines = {line for line, _ in real["errors"]}  # type: ignore[union-attr]
        assert exc.line in lines, real["errors"]
        return
    assert real["ok"] is True, real["errors"]
    rows = [list(r) for r in real["rows"]]  # type: ignore[union-attr]
    mine = [[p, text, line] for p, text, line in root.walk()]
    assert [r[:3] for r in rows] == mine
    namespaces = {r[0]: r[3] for r in rows}
    assert namespaces["/" + root.tag] == root.namespace
