"""Nothing outside the content folder is read or published as content (issue 12).

A local image (``image.src``) must be a PNG, JPEG, GIF or WebP inside the content folder;
a content file or type folder that is a symbolic link is read only when it leads into the
content folder; a file over ``[limits] max_file_kb`` is an error and is not read. Each is
a clear content error in ``check``, never a silent copy into the public build and never
an internal error.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from conftest import assumed_end
from PIL import Image

from commsflow.sources.content import discover

NOW = ("--now", "2024-03-01 10:00")
FEATURED = "2024-03-06-foerdercall-circular-economy-zweite-stufe"  # featured in newsletter-2024-1
POST = "content/posts/2023-12-04-circular-city-challenge.md"  # in the `project` fixture


def png(width: int = 4, height: int = 3) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def set_image(root: Path, src: str, name: str = FEATURED) -> tuple[str, int]:
    """Give a post an image; returns the file as shown and the line of ``src:``."""
    path = root / "content" / "posts" / f"{name}.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace("\nstatus: approved\n", f'\nstatus: approved\nimage:\n  src: "{src}"\n  alt: Werkhalle\n', 1)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(f'  src: "{src}"') + 1
    return f"content/posts/{name}.md", line


def secret_outside(root: Path) -> Path:
    """A file outside the project that would pass every other test: it is a real PNG."""
    secret = root.parent / "geheim" / "schatten.png"
    secret.parent.mkdir(exist_ok=True)
    secret.write_bytes(png())
    return secret


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("error ", "warning ")) and not assumed_end(line)]


def assert_clean_failure(result) -> None:
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output


def published_media(root: Path) -> list[Path]:
    media = root / "build" / "media"
    return sorted(path for path in media.rglob("*") if path.is_file()) if media.exists() else []


# --- 1. image.src ---------------------------------------------------------------------------


def test_image_src_leading_out_of_the_content_folder_is_refused_by_check_and_never_copied(run, mpi):
    secret = secret_outside(mpi)
    src = "../" * (len(Path(mpi, "content", "posts").parts) - 1) + secret.as_posix().lstrip("/")
    assert (mpi / "content" / "posts" / src).resolve() == secret  # the path does reach the file
    shown, line = set_image(mpi, src)
    result = run(mpi, *NOW, "check")
    assert_clean_failure(result)
    assert problem_lines(result.stdout) == [
        f"error {shown}:{line}: image.src: image {src!r} leads out of the content folder — keep images "
        "inside content/ (e.g. next to the Markdown file) or give a full https:// address"
    ]
    build = run(mpi, *NOW, "build")
    assert_clean_failure(build)
    assert f"image {src!r} leads out of the content folder" in build.stdout
    assert published_media(mpi) == []
    leaked = secret.read_bytes()
    assert not [path for path in (mpi / "build").rglob("*") if path.is_file() and leaked in path.read_bytes()]


def test_image_src_to_a_project_file_outside_the_content_folder_is_refused(run, mpi):
    shown, line = set_image(mpi, "../../commsflow.toml")
    result = run(mpi, *NOW, "check")
    assert_clean_failure(result)
    assert f"error {shown}:{line}: image.src: image '../../commsflow.toml' leads out of the content folder" in (
        result.stdout
    )


def test_absolute_image_path_is_a_content_error_not_an_internal_error(run, mpi):
    secret = secret_outside(mpi)
    shown, line = set_image(mpi, str(secret))
    result = run(mpi, *NOW, "check")
    assert_clean_failure(result)
    assert problem_lines(result.stdout) == [
        f"error {shown}:{line}: image.src: image {str(secret)!r} is an absolute path — write the path relative "
        "to the Markdown file; keep images inside content/ (e.g. next to the Markdown file) or give a full "
        "https:// address"
    ]
    for command in ("build", "lint"):
        done = run(mpi, *NOW, command)
        assert_clean_failure(done)
        assert "is an absolute path" in done.stdout + done.stderr, command
    assert published_media(mpi) == []


def test_image_behind_a_symbolic_link_leading_out_of_the_content_folder_is_refused(run, mpi):
    secret = secret_outside(mpi)
    (mpi / "content" / "posts" / "bild.png").symlink_to(secret)
    shown, line = set_image(mpi, "bild.png")
    result = run(mpi, *NOW, "check")
    assert_clean_failure(result)
    assert problem_lines(result.stdout) == [
        f"error {shown}:{line}: image.src: image 'bild.png' is a symbolic link to a file outside the content "
        "folder — copy the image into content/ instead of linking it, or give a full https:// address"
    ]
    assert_clean_failure(run(mpi, *NOW, "build"))
    assert published_media(mpi) == []


@pytest.mark.parametrize(
    "content",
    [b"root:x:0:0:root:/root:/bin/bash\n", b"\x89PNG\r\n\x1a\n", b"", b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
    ids=["text", "png-signature-only", "empty", "svg"],
)
def test_image_that_is_not_an_image_by_content_is_refused(run, mpi, content):
    (mpi / "content" / "posts" / "bild.png").write_bytes(content)
    shown, line = set_image(mpi, "bild.png")
    result = run(mpi, *NOW, "check")
    assert_clean_failure(result)
    assert problem_lines(result.stdout) == [
        f"error {shown}:{line}: image.src: image 'bild.png' is not a PNG, JPEG, GIF or WebP image — save the "
        "picture in one of these formats; other files cannot be shown in e-mails or on LinkedIn"
    ]
    assert_clean_failure(run(mpi, *NOW, "build"))
    assert published_media(mpi) == []


def test_image_that_changes_after_a_clean_check_is_checked_again(run, mpi):
    """The check does not come from the content cache: the Markdown is unchanged."""
    image = mpi / "content" / "posts" / "bild.png"
    image.write_bytes(png())
    shown, line = set_image(mpi, "bild.png")
    assert run(mpi, *NOW, "check").exit_code == 0
    image.write_bytes(b"kein Bild")
    result = run(mpi, *NOW, "check")
    assert_clean_failure(result)
    assert f"error {shown}:{line}: image.src: image 'bild.png' is not a PNG, JPEG, GIF or WebP image" in result.stdout


def test_images_inside_the_content_folder_and_https_addresses_are_accepted(run, mpi):
    shared = mpi / "content" / "posts" / "bilder"
    shared.mkdir()
    (shared / "werkhalle.png").write_bytes(png())
    (mpi / "content" / "posts" / "verlinkt.png").symlink_to(shared / "werkhalle.png")  # a link that stays inside
    set_image(mpi, "bilder/werkhalle.png")
    set_image(mpi, "verlinkt.png", name="2023-10-18-neue-website-und-veranstaltungen")
    set_image(
        mpi,
        "https://www.berlin.de/industriestadt/bild.jpg",
        name="2023-10-04-rueckblick-mpi-deep-dive-hardtech-startups",
    )
    result = run(mpi, *NOW, "check")
    assert result.exit_code == 0, result.output
    assert "image" not in result.stdout
    build = run(mpi, *NOW, "build")
    assert build.exit_code == 0, build.output
    assert published_media(mpi) == [mpi / "build" / "media" / FEATURED / "werkhalle.png"]
    assert (mpi / "build" / "media" / FEATURED / "werkhalle.png").read_bytes() == png()


# --- 6. symbolic links among the content files ----------------------------------------------

OUTSIDE_POST = """\
---
title: Interne Notiz
status: approved
category: Aktuelles
date: 2024-02-20
---
Nur für den internen Gebrauch.
"""


def test_content_file_linking_out_of_the_content_folder_is_refused(run, project):
    notes = project.parent / "notizen" / "intern.md"
    notes.parent.mkdir()
    notes.write_text(OUTSIDE_POST, encoding="utf-8")
    link = project / "content" / "posts" / "2024-02-20-intern.md"
    link.symlink_to(notes)
    result = run(project, "check")
    assert_clean_failure(result)
    assert problem_lines(result.stdout) == [
        f"error content/posts/2024-02-20-intern.md: is a symbolic link to a file outside the content folder "
        f"({notes}); not read — copy the file into content/ instead of linking it: only what lies in content/ "
        "is published"
    ]
    listing = run(project, "list", "post")
    assert "Interne Notiz" not in listing.stdout


def test_content_file_linking_to_a_project_file_outside_the_content_folder_is_refused(run, project):
    (project / "content" / "posts" / "konfiguration.md").symlink_to(project / "commsflow.toml")
    result = run(project, "check")
    assert_clean_failure(result)
    assert (
        "error content/posts/konfiguration.md: is a symbolic link to a file outside the content folder" in result.stdout
    )


def test_type_folder_linking_out_of_the_content_folder_is_refused(run, project):
    elsewhere = project.parent / "andere-beitraege"
    elsewhere.mkdir()
    (elsewhere / "2024-02-20-intern.md").write_text(OUTSIDE_POST, encoding="utf-8")
    posts = project / "content" / "posts"
    for path in posts.iterdir():
        path.unlink()
    posts.rmdir()
    posts.symlink_to(elsewhere, target_is_directory=True)
    result = run(project, "check")
    assert_clean_failure(result)
    assert "error content/posts: is a symbolic link to a folder outside the content folder" in result.stdout
    assert "Interne Notiz" not in run(project, "list", "post").stdout


def test_content_file_linking_inside_the_content_folder_is_read(run, project):
    drafts = project / "content" / "entwuerfe"
    drafts.mkdir()
    (drafts / "notiz.txt").write_text("keine Markdown-Datei")
    (project / POST).rename(drafts / "beitrag.md")
    (project / POST).symlink_to(drafts / "beitrag.md")
    result = run(project, "check")
    assert result.exit_code == 0, result.output
    assert "5 files checked, 5 items valid" in result.stdout


def test_linked_subfolder_is_not_followed_and_says_so(run, project):
    elsewhere = project.parent / "archiv"
    elsewhere.mkdir()
    (elsewhere / "2024-02-20-intern.md").write_text(OUTSIDE_POST, encoding="utf-8")
    (project / "content" / "posts" / "archiv").symlink_to(elsewhere, target_is_directory=True)
    result = run(project, "check")
    assert "error content/posts/archiv: is a symbolic link to a folder outside the content folder" in result.stdout
    assert "Interne Notiz" not in run(project, "list", "post").stdout


def test_named_pipe_among_the_content_files_is_reported_not_opened(project):
    """Opening a named pipe would wait for a writer for ever."""
    os.mkfifo(project / "content" / "posts" / "2024-02-20-rohr.md")
    found, problems = discover(project, project / "content")
    assert all(not name.endswith("rohr.md") for name, _, _ in found)
    assert [p.format() for p in problems] == [
        "content/posts/2024-02-20-rohr.md: is not a regular file (a named pipe, socket or device); not read — "
        "replace it with an ordinary Markdown file"
    ]


# --- 11. size limit per content file ---------------------------------------------------------


def set_limit(root: Path, kilobytes) -> None:
    config = root / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8") + f"\n[limits]\nmax_file_kb = {kilobytes}\n", encoding="utf-8")


def test_content_file_over_the_size_limit_is_an_error_and_is_not_read(run, project):
    set_limit(project, 1)
    path = project / POST
    # Over the limit and not UTF-8 either: had the file been read, that would be said.
    path.write_bytes(path.read_bytes() + b"\xff" * 3000)
    result = run(project, "check")
    assert_clean_failure(result)
    assert problem_lines(result.stdout) == [
        f"error {POST}: the file is 4 KB, over the limit of 1 KB; it was not read — split the text into smaller "
        "items (images belong in image files, not in the text), or raise [limits] max_file_kb in commsflow.toml"
    ]
    again = run(project, "check")  # from the cache: the same verdict, still without reading
    assert problem_lines(again.stdout) == problem_lines(result.stdout)
    # A reference to the file is not reported as a reference to nothing.
    assert "unknown" not in result.stdout


def test_default_size_limit_is_two_megabytes(run, project):
    path = project / POST
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "Lorem ipsum dolor sit amet. " * (2 * 1024 * 1024 // 28 + 1), encoding="utf-8")
    started = time.perf_counter()
    result = run(project, "check")
    assert time.perf_counter() - started < 10
    assert_clean_failure(result)
    assert re.search(rf"error {POST}: the file is 2,049 KB, over the limit of 2,048 KB; it was not read", result.stdout)


def test_size_limit_can_be_raised(run, project):
    set_limit(project, 4096)
    path = project / POST
    path.write_text(path.read_text(encoding="utf-8") + "Lorem ipsum. " * (3 * 1024 * 1024 // 13), encoding="utf-8")
    result = run(project, "check")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("value", ["0", '"2 MB"', "-5"])
def test_size_limit_must_be_a_positive_number_of_kilobytes(run, project, value):
    set_limit(project, value)
    result = run(project, "check")
    assert result.exit_code == 1
    assert "limits.max_file_kb" in result.output
    assert "Traceback" not in result.output
