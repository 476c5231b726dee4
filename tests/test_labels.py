from echolatent import Instant, Label, View


def test_label_values_follow_camus() -> None:
    assert [int(label) for label in Label] == [0, 1, 2, 3]
    assert Label.foreground() == (Label.LV, Label.MYO, Label.LA)


def test_view_and_instant_names_match_file_names() -> None:
    assert View("2CH") is View.A2C and View("4CH") is View.A4C
    assert Instant("ED") is Instant.ED
