"""Citations written into a package's rdf.yaml (export/rdf.py)."""

from __future__ import annotations

from microsr.export.rdf import paper_cite


def test_care_networks_cite_the_care_paper():
    # Weigert et al., Nature Methods 15, 1090-1097 (2018), doi:10.1038/s41592-018-0216-7
    for name in ("care-unet", "care-unet-k3"):
        cite = paper_cite(name)
        assert cite["doi"] == "10.1038/s41592-018-0216-7" and cite["text"].startswith("Weigert et al. 2018")


def test_variants_cite_their_family_and_unknown_names_a_title_search():
    assert paper_cite("edsr-baseline")["url"] == "https://arxiv.org/abs/1707.02921"
    assert paper_cite("denseed-2-2-2")["text"].startswith("Mannam et al. 2021")
    assert paper_cite("no-such-net")["url"].startswith("https://search.crossref.org/?q=The+no-such-net")
