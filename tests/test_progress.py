from inrtomo.progress import _Lines, progress


def test_non_interactive_progress_writes_whole_lines(capsys):
    lines = _Lines()
    lines.write("\rSIRT:  10%| 10/100")
    lines.write("\r")
    lines.write("\rSIRT:  20%| 20/100\r")
    assert capsys.readouterr().err == "SIRT:  10%| 10/100\nSIRT:  20%| 20/100\n"


def test_progress_suits_a_log_file_and_can_be_silenced(capsys):
    bar = progress(range(3), desc="work")  # pytest's stderr is not a terminal
    assert bar.mininterval == 5.0 and bar.delay == 5.0 and not bar.disable
    assert list(bar) == [0, 1, 2]
    quiet = progress(range(3), desc="work", quiet=True)
    assert quiet.disable and list(quiet) == [0, 1, 2]
    assert "work" not in capsys.readouterr().err  # short work prints nothing (first line after 5 s)
