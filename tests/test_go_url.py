"""registry_config.parse_go_url against the cases of Go's own tests, golang/go
src/net/url/url_test.go at commit 617782b3263231b478ffee555e3cbb6f86fe4d2c: TestParse (the
fields this port keeps), TestParseErrors, TestRejectControlCharacters, TestURLHostnameAndPort."""

from __future__ import annotations

import pytest

from components.registry_config import GoURL, parse_go_url

# TestParse's urltests: (input, scheme, opaque, userinfo, host, path, raw query, fragment).
PARSED = [
    ("http://www.google.com", "http", "", None, "www.google.com", "", "", ""),
    ("http://www.google.com/", "http", "", None, "www.google.com", "/", "", ""),
    ("http://www.google.com/file%20one%26two", "http", "", None, "www.google.com",
     "/file one&two", "", ""),
    ("http://www.google.com/#file%20one%26two", "http", "", None, "www.google.com", "/", "",
     "file one&two"),
    ("ftp://webmaster@www.google.com/", "ftp", "", "webmaster", "www.google.com", "/", "", ""),
    ("ftp://john%20doe@www.google.com/", "ftp", "", "john%20doe", "www.google.com", "/", "", ""),
    ("http://www.google.com/?foo=bar?", "http", "", None, "www.google.com", "/", "foo=bar?", ""),
    ("http://www.google.com/?q=go+language", "http", "", None, "www.google.com", "/",
     "q=go+language", ""),
    ("http:www.google.com/?q=go+language", "http", "www.google.com/", None, "", "",
     "q=go+language", ""),
    ("mailto:/webmaster@golang.org", "mailto", "", None, "", "/webmaster@golang.org", "", ""),
    ("mailto:webmaster@golang.org", "mailto", "webmaster@golang.org", None, "", "", "", ""),
    ("/foo?query=http://bad", "", "", None, "", "/foo", "query=http://bad", ""),
    ("//foo", "", "", None, "foo", "", "", ""),
    ("//user@foo/path?a=b", "", "", "user", "foo", "/path", "a=b", ""),
    ("///threeslashes", "", "", None, "", "///threeslashes", "", ""),
    ("http://user:password@google.com", "http", "", "user:password", "google.com", "", "", ""),
    ("http://j@ne:password@google.com", "http", "", "j@ne:password", "google.com", "", "", ""),
    ("http://jane:p@ssword@google.com", "http", "", "jane:p@ssword", "google.com", "", "", ""),
    ("http://j@ne:password@google.com/p@th?q=@go", "http", "", "j@ne:password", "google.com",
     "/p@th", "q=@go", ""),
    ("http://www.google.com/?q=go+language#foo&bar", "http", "", None, "www.google.com", "/",
     "q=go+language", "foo&bar"),
    ("file:///home/adg/rabbits", "file", "", None, "", "/home/adg/rabbits", "", ""),
    ("MaIlTo:webmaster@golang.org", "mailto", "webmaster@golang.org", None, "", "", "", ""),
    ("a/b/c", "", "", None, "", "a/b/c", "", ""),
    ("http://%3Fam:pa%3Fsword@google.com", "http", "", "%3Fam:pa%3Fsword", "google.com", "", "",
     ""),
    ("http://192.168.0.1:8080/", "http", "", None, "192.168.0.1:8080", "/", "", ""),
    ("http://[fe80::1]:8080/", "http", "", None, "[fe80::1]:8080", "/", "", ""),
    ("http://[fe80::1%25en0]:8080/", "http", "", None, "[fe80::1%en0]:8080", "/", "", ""),
    ("http://[fe80::1%25%65%6e%301-._~]/", "http", "", None, "[fe80::1%en01-._~]", "/", "", ""),
    ("mysql://a,b,c/bar", "mysql", "", None, "a,b,c", "/bar", "", ""),
    ("scheme://!$&'()*+,;=hello!:1/path", "scheme", "", None, "!$&'()*+,;=hello!:1", "/path",
     "", ""),
    ("http://192.168.0.2:/foo", "http", "", None, "192.168.0.2:", "/foo", "", ""),
    ("http://2b01:e34:ef40:7730:8e70:5aff:fefe:edac:8080/foo", "http", "", None,
     "2b01:e34:ef40:7730:8e70:5aff:fefe:edac:8080", "/foo", "", ""),
    ("http://hello.%e4%b8%96%e7%95%8c.com/foo", "http", "", None, "hello.\u4e16\u754c.com",
     "/foo", "", ""),
    ("http://example.com//foo", "http", "", None, "example.com", "//foo", "", ""),
    ('myscheme://authority<"hi">/foo', "myscheme", "", None, 'authority<"hi">', "/foo", "", ""),
    ("tcp://[2020::2020:20:2020:2020%25Windows%20Loves%20Spaces]:2020", "tcp", "", None,
     "[2020::2020:20:2020:2020%Windows Loves Spaces]:2020", "", "", ""),
    ("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn", "magnet", "", None, "",
     "", "xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "scheme", "opaque", "userinfo", "host", "path", "query", "fragment"), PARSED
)
def test_parses_as_go_does(
    raw: str, scheme: str, opaque: str, userinfo: str | None, host: str, path: str, query: str,
    fragment: str,
) -> None:  # fmt: skip
    url = parse_go_url(raw)
    assert (url.scheme, url.opaque, url.userinfo, url.host, url.path, url.raw_query,
            url.fragment) == (scheme, opaque, userinfo, host, path, query, fragment)  # fmt: skip


def test_a_lone_question_mark_forces_an_empty_query() -> None:
    assert parse_go_url("http://www.google.com/?").force_query is True


# TestParseErrors, TestInvalidUserPassword and TestRejectControlCharacters.
@pytest.mark.parametrize(("raw", "refused"), [
    ("http://[::1]", False),
    ("http://[::1]:80", False),
    ("http://[::1]:namedport", True),
    ("http://x:namedport", True),
    ("http://[::1]/", False),
    ("http://[::1]a", True),
    ("http://[::1]%23", True),
    ("http://[::1%25en0]", False),
    ("http://[::1]:", False),
    ("http://x:", False),
    ("http://[::1]:%38%30", True),
    ("http://[::1%25%41]", False),
    ("http://[%10::1]", True),
    ("http://[::1]/%48", False),
    ("http://%41:8080/", True),
    ("mysql://x@y(z:123)/foo", True),
    ("mysql://x@y(1.2.3.4:123)/foo", True),
    (" http://foo.com", True),
    ("ht tp://foo.com", True),
    ("ahttp://foo.com", False),
    ("1http://foo.com", True),
    ("http://[]%20%48%54%54%50%2f%31%2e%31%0a%4d%79%48%65%61%64%65%72%3a%20%31%32%33%0a%0a/",
     True),
    ("http://a b.com/", True),
    ("cache_object://foo", True),
    ("cache_object:foo", True),
    ("cache_object:foo/bar", True),
    ("cache_object/:foo/bar", False),
    ("http://user^:passwo^rd@foo.com/", True),
    ("http://foo.com/?foo\nbar", True),
    ("http\r://foo.com/", True),
    ("http://foo\x7f.com/", True),
    ("http://foo.com/ctl\x80", False),  # not an ASCII control character
])  # fmt: skip
def test_refuses_what_go_refuses(raw: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ValueError):
            parse_go_url(raw)
    else:
        parse_go_url(raw)


def test_control_characters_are_named_as_go_names_them() -> None:
    with pytest.raises(ValueError, match="net/url: invalid control character in URL"):
        parse_go_url("https://msr.example.com\t")


# TestURLHostnameAndPort.
@pytest.mark.parametrize(("host", "hostname", "port"), [
    ("foo.com:80", "foo.com", "80"),
    ("foo.com", "foo.com", ""),
    ("foo.com:", "foo.com", ""),
    ("FOO.COM", "FOO.COM", ""),
    ("1.2.3.4", "1.2.3.4", ""),
    ("1.2.3.4:80", "1.2.3.4", "80"),
    ("[1:2:3:4]", "1:2:3:4", ""),
    ("[1:2:3:4]:80", "1:2:3:4", "80"),
    ("[::1]:80", "::1", "80"),
    ("[::1]", "::1", ""),
    ("[::1]:", "::1", ""),
    ("localhost", "localhost", ""),
    ("localhost:443", "localhost", "443"),
    ("[google.com]:80", "google.com", "80"),
    ("google.com]:80", "google.com]", "80"),
    ("google.com:80_invalid_port", "google.com:80_invalid_port", ""),
    ("[::1]extra]:80", "::1]extra", "80"),
    ("google.com]extra:extra", "google.com]extra:extra", ""),
])  # fmt: skip
def test_hostname_and_port_split_as_go_splits_them(host: str, hostname: str, port: str) -> None:
    url = GoURL(host=host)
    assert (url.hostname, url.port) == (hostname, port)
