from maillab.remote.listeners import parse_ss


def test_box_tcp_listeners_from_real_ss(fixture_text):
    listeners = parse_ss(fixture_text("ss", "box-start-of-chapter-tcp.txt"))
    by_port = {(s.address, s.port): s for s in listeners}
    assert by_port[("0.0.0.0", 25)].process == "master"
    assert by_port[("::", 25)].process == "master"
    assert by_port[("0.0.0.0", 22)].process == "sshd"
    assert by_port[("127.0.0.1", 783)].processes == ("spamd child", "spamd")
    assert by_port[("::1", 953)].process == "named"
    assert {s.protocol for s in listeners} == {"tcp"}


def test_spamd_socket_lists_every_pid(fixture_text):
    listeners = parse_ss(fixture_text("ss", "box-start-of-chapter-tcp.txt"))
    spamd = next(s for s in listeners if s.port == 783)
    assert len(spamd.pids) == 3
    assert spamd.is_loopback and not spamd.is_wildcard


def test_netid_column_gives_the_protocol(fixture_text):
    listeners = parse_ss(fixture_text("ss", "box-start-of-chapter-tcp-udp.txt"))
    udp53 = [s for s in listeners if s.protocol == "udp" and s.port == 53]
    assert {s.address for s in udp53} >= {"127.0.0.1", "192.168.56.10"}
    assert any(s.protocol == "tcp" and s.port == 143 for s in listeners)


def test_socket_without_process_column(fixture_text):
    listeners = parse_ss(fixture_text("ss", "host-debian12-tcp.txt"))
    assert listeners
    assert all(isinstance(s.port, int) and s.port > 0 for s in listeners)


def test_interface_suffix_and_wildcards():
    text = (
        "LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:* "
        'users:(("systemd-resolve",pid=9,fd=14))\n'
        'LISTEN 0 511 *:80 *:* users:(("apache2",pid=1,fd=4))\n'
        "LISTEN 0 10 [fe80::1%eth0]:53 [::]:*\n"
    )
    first, web, link = parse_ss(text)
    assert (first.address, first.port, first.process) == (
        "127.0.0.53",
        53,
        "systemd-resolve",
    )
    assert web.is_wildcard and web.port == 80
    assert (link.address, link.port, link.process) == ("fe80::1", 53, "")
