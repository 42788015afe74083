"""The one cleaner of typed text: invisible controls never reach the database."""

from __future__ import annotations

import pytest

from clientplus_core.base.textnorm import clean, clean_line, like_contains

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


@pytest.mark.parametrize("mark", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                                  "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"])
def test_every_bidirectional_control_is_removed(mark):
    assert clean(f"Счёт{mark}.pdf") == "Счёт.pdf"


def test_a_right_to_left_override_cannot_disguise_a_program_as_a_pdf():
    assert clean(f"invoice{RLO}fdp.exe") == "invoicefdp.exe"


def test_c0_and_c1_controls_go_while_tabs_and_line_breaks_stay():
    assert clean("a\x00b\x07c\x1bd\x7fe\x85f\x9bg") == "abcdefg"
    assert clean("строка 1\nстрока 2\tтаб") == "строка 1\nстрока 2\tтаб"


def test_letters_of_other_scripts_and_emoji_stay():
    assert clean("Ёлка שלום مرحبا 👍🏽 👨‍👩‍👧") == "Ёлка שלום مرحبا 👍🏽 👨‍👩‍👧"


def test_a_name_is_one_line_without_controls():
    assert clean_line(f"  ООО {LRI}«Ромашка»{PDI}\n  и\tко ") == "ООО «Ромашка» и ко"


def test_the_length_limit_counts_what_is_kept():
    assert clean(RLO * 50 + "abc", 3) == "abc"
    with pytest.raises(ValueError, match="не длиннее 3"):
        clean_line("abcd", 3)


def test_percent_underscore_and_backslash_are_literal_in_a_like_pattern():
    assert like_contains("50%") == "%50\\%%"
    assert like_contains("a_b") == "%a\\_b%"
    assert like_contains("c:\\d") == "%c:\\\\d%"
