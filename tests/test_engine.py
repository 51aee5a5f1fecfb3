"""The program runner and the render's providers: stable auto-names, no cluster reads."""

from __future__ import annotations

from harness import ROOT, run_render

from render.__main__ import render


def test_two_renders_are_byte_identical(rendered, tmp_path):
    render("dev", tmp_path, stack_dir=ROOT)
    first = {p.name: p.read_bytes() for p in (rendered["dev"] / "1-manifest").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "1-manifest").iterdir()}
    assert first == second


def test_a_render_says_it_cannot_read_the_cluster(tmp_path, capsys):
    code, err = run_render(
        tmp_path,
        capsys,
        "config:\n  msr-cache:upstreams: [https://msr.example.com]\n  msr-cache:hosts: [a.example.com]\n"
        "  msr-cache:port: 30443\n  msr-cache:upstreamCaSecret: {namespace: msr, name: msr-nginx-ca-cert}\n",
    )
    assert code == 1
    assert "reads Secret msr/msr-nginx-ca-cert from the cluster" in err and "upstreamCaCert" in err
