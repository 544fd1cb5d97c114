"""The forum plugin: posting, Q&A answers, locks, moderation, edit window, rate limit, visibility,
search, unread markers, subscriptions and digests, completion, hostile Markdown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from courses.forum.models import Forum, ForumPost, ForumThread
from lms.extensions import db
from lms.models import OutboundMail, User
from lms.progress.models import ActivityCompletion

SARA, MARCO, TRAINER = "student@uni.demo", "employee@acme.demo", "trainer@uni.demo"


@pytest.fixture
def app_config():
    # A long window, so a slow machine cannot make the limit test pass by accident.
    return {"FORUM_RATE_LIMIT_POSTS": 3, "FORUM_RATE_LIMIT_SECONDS": 3600}


def _forum() -> Forum:
    return db.session.scalar(select(Forum))


def _ask(client, forum_id: int, title: str, body: str) -> int:
    page = client.post(f"/forum/{forum_id}/new", data={"title": title, "body": body})
    assert page.status_code == 302, page.data[-400:]
    return int(re.search(r"/forum/threads/(\d+)", page.headers["Location"]).group(1))


def test_question_reply_answer_and_completion(demo, client, auth):
    with demo.app_context():
        forum = _forum()
        fid, url = forum.id, f"/courses/{forum.course.slug}/activities/{forum.id}"
    auth.login(SARA)
    assert b"Why does groupby drop rows" in client.get(url).data  # the demo's real content
    tid = _ask(client, fid, "Summer time doubles an hour",
               "My log has 02:00-03:00 twice on 29 March. <img src=x onerror=alert(1)> How?")  # fmt: skip
    page = client.get(f"/forum/threads/{tid}").data
    assert b"twice on 29 March" in page and b"onerror=" not in page
    auth.logout()
    auth.login(MARCO)
    assert b"1 unread" in client.get(url).data
    client.post(
        f"/forum/threads/{tid}/reply", data={"body": "Parse with `utc=True`, then convert."}
    )
    with demo.app_context():
        marco = db.session.scalar(select(User).where(User.email == MARCO))
        done = db.session.scalar(select(ActivityCompletion).where(
            ActivityCompletion.user_id == marco.id, ActivityCompletion.activity_id == fid))  # fmt: skip
        assert done.completed  # the demo forum completes with one reply
        answer = db.session.scalar(select(ForumPost).where(ForumPost.thread_id == tid,
                                                           ForumPost.parent_id.is_not(None)))  # fmt: skip
        aid = answer.id
    assert client.post(f"/forum/posts/{aid}/answer").status_code == 403  # not the asker
    auth.logout()
    auth.login(TRAINER)
    client.post(f"/forum/posts/{aid}/answer")
    with demo.app_context():
        assert db.session.get(ForumThread, tid).answer_post_id == aid
    assert b"Answered" in client.get(url).data


def test_nest_orders_replies_under_their_post_with_a_depth_limit():
    """Pure: replies follow the post they answer, one level deeper, capped at MAX_DEPTH."""
    from courses.forum.threads import MAX_DEPTH, nest

    opener = ForumPost(id=1, parent_id=None, body="Q")
    a = ForumPost(id=2, parent_id=1, body="A")
    b = ForumPost(id=3, parent_id=1, body="B")
    chain = [
        ForumPost(id=10 + i, parent_id=(2 if i == 0 else 9 + i), body=f"c{i}") for i in range(6)
    ]
    rows = nest([opener, a, b, *chain])  # oldest first: b was written before the chain
    assert [r.post.id for r in rows] == [1, 2, 10, 11, 12, 13, 14, 15, 3]
    assert [r.depth for r in rows] == [0, 0, 1, 2, 3, MAX_DEPTH, MAX_DEPTH, MAX_DEPTH, 0]
    assert rows[2].parent is a and rows[0].parent is None
    orphan = ForumPost(id=99, parent_id=77, body="parent gone")  # never lost, shown at the top
    assert [r.post.id for r in nest([opener, orphan])] == [1, 99]


def test_threaded_replies_answer_a_specific_post(demo, client, auth):
    with demo.app_context():
        fid = _forum().id
    auth.login(SARA)
    tid = _ask(client, fid, "Rolling mean or EWMA?", "Which smooths sensor noise better?")
    auth.logout()
    auth.login(MARCO)
    client.post(f"/forum/threads/{tid}/reply", data={"body": "**EWMA** reacts _faster_."})
    with demo.app_context():
        marco_post = db.session.scalar(select(ForumPost).where(
            ForumPost.thread_id == tid, ForumPost.parent_id.is_not(None))).id  # fmt: skip
    auth.logout()
    auth.login(SARA)
    page = client.get(f"/forum/threads/{tid}").get_data(as_text=True)
    assert f"reply_to={marco_post}#reply" in page  # each reply has its own Reply link
    form = client.get(f"/forum/threads/{tid}?reply_to={marco_post}").get_data(as_text=True)
    assert (
        "Reply to Marco" in form and f'name="parent_id" type="hidden" value="{marco_post}"' in form
    )
    quote = form[form.index('class="reply-to"') : form.index("</blockquote>")]
    assert "EWMA reacts faster." in quote and "**" not in quote and "<strong>" not in quote
    done = client.post(f"/forum/threads/{tid}/reply",
                       data={"body": "Which span did you use?", "parent_id": str(marco_post)})  # fmt: skip
    assert done.status_code == 302
    with demo.app_context():
        nested = db.session.scalar(select(ForumPost).where(ForumPost.parent_id == marco_post))
        assert nested is not None and nested.body == "Which span did you use?"
        nested_id = nested.id
    page = client.get(f"/forum/threads/{tid}").get_data(as_text=True)
    assert re.search(rf'class="post post--reply post--depth-1[^"]*" id="post-{nested_id}"', page)
    assert page.index(f'id="post-{marco_post}"') < page.index(f'id="post-{nested_id}"')
    assert "in reply to Marco" in page
    # A post of another discussion, or one that does not exist: refused, the text kept.
    with demo.app_context():
        foreign = db.session.scalar(select(ForumPost).where(ForumPost.thread_id != tid).limit(1)).id
    wrong = client.post(f"/forum/threads/{tid}/reply",
                        data={"body": "Misplaced answer", "parent_id": str(foreign)})  # fmt: skip
    assert wrong.status_code == 400 and b"another discussion" in wrong.data
    assert b"Misplaced answer" in wrong.data
    gone = client.post(f"/forum/threads/{tid}/reply", data={"body": "x", "parent_id": "999999"})
    assert gone.status_code == 400 and b"no longer exists" in gone.data


def test_locked_threads_hidden_posts_and_moderation_need_reasons(demo, client, auth):
    with demo.app_context():
        fid = _forum().id
    auth.login(SARA)
    tid = _ask(client, fid, "Units on M-04", "Milliseconds or seconds?")
    with demo.app_context():
        first = db.session.scalar(select(ForumPost).where(ForumPost.thread_id == tid)).id
    auth.logout()
    auth.login(TRAINER)
    no_reason = client.post(f"/forum/posts/{first}/moderate", data={"action": "hide", "reason": ""},
                            follow_redirects=True)  # fmt: skip
    assert b"Give a reason" in no_reason.data
    client.post(f"/forum/posts/{first}/moderate", data={"action": "hide", "reason": "Off topic"})
    client.post(f"/forum/threads/{tid}/flags", data={"action": "lock"})
    auth.logout()
    auth.login(MARCO)
    page = client.get(f"/forum/threads/{tid}").data
    assert (
        b"Hidden by a trainer. Reason: Off topic" in page and b"Milliseconds or seconds" not in page
    )
    locked = client.post(f"/forum/threads/{tid}/reply", data={"body": "Seconds."})
    assert locked.status_code == 400 and b"locked" in locked.data
    client.post(f"/forum/threads/{tid}/flags", data={"action": "unlock"})  # not a trainer
    with demo.app_context():
        assert db.session.get(ForumThread, tid).locked
        db.session.get(ForumThread, tid).locked = False
        db.session.commit()
    hidden = client.post(
        f"/forum/threads/{tid}/reply", data={"body": "Seconds.", "parent_id": first}
    )
    assert hidden.status_code == 400 and b"hidden or deleted" in hidden.data
    search = client.get(f"/forum/course/{_course_id(demo)}/search?q=milliseconds").data
    assert b"No post contains" in search
    with demo.app_context():
        assert db.session.scalar(select(ForumPost).where(ForumPost.thread_id == tid,
                                                         ForumPost.parent_id.is_not(None))) is None  # fmt: skip


def _course_id(app) -> int:
    with app.app_context():
        return _forum().course_id


def test_edit_window_rate_limit_report_and_visibility(demo, client, auth):
    with demo.app_context():
        fid = _forum().id
        for old in db.session.scalars(select(ForumPost)):  # the demo's posts are from earlier
            old.created_at -= timedelta(hours=2)
        db.session.commit()
    auth.login(SARA)
    tid = _ask(client, fid, "Duplicates", "How do I spot retries?")
    with demo.app_context():
        post = db.session.scalar(select(ForumPost).where(ForumPost.thread_id == tid))
        pid = post.id
    client.post(f"/forum/posts/{pid}/edit", data={"body": "How do I spot historian retries?"})
    with demo.app_context():
        post = db.session.get(ForumPost, pid)
        assert post.body == "How do I spot historian retries?" and post.edited_at is not None
        post.created_at -= timedelta(minutes=31)
        db.session.commit()
    late = client.post(f"/forum/posts/{pid}/edit", data={"body": "changed"})
    assert late.status_code == 400 and b"30 minutes" in late.data
    with demo.app_context():
        # Back inside the rate window, so the question and two replies make three recent posts.
        db.session.get(ForumPost, pid).created_at += timedelta(minutes=31)
        db.session.commit()
    client.post(f"/forum/threads/{tid}/reply", data={"body": "Also: same timestamp twice?"})
    client.post(f"/forum/threads/{tid}/reply", data={"body": "Or the same part id?"})
    too_many = client.post(f"/forum/threads/{tid}/reply", data={"body": "And a third?"})
    assert too_many.status_code == 400 and b"Wait a moment" in too_many.data
    assert (
        b"historian retries"
        in client.get(f"/forum/course/{_course_id(demo)}/search?q=HISTORIAN retries").data
    )
    auth.logout()
    auth.login(MARCO)
    client.post(f"/forum/posts/{pid}/report", data={"reason": ""})
    client.post(f"/forum/posts/{pid}/report", data={"reason": "Spam link"})
    auth.logout()
    auth.login("hr@acme.demo")  # of a partner organization, but not enrolled in the course
    assert client.get(f"/forum/threads/{tid}").status_code == 404
    assert client.post(f"/forum/threads/{tid}/reply", data={"body": "hi"}).status_code == 404
    assert client.get(f"/forum/course/{_course_id(demo)}/search?q=retries").status_code == 404
    auth.logout()
    auth.login(TRAINER)
    reports = client.get(f"/forum/{fid}/reports").data
    assert b"Spam link" in reports and reports.count(b"<tr>") == 2  # header + one report


def test_subscriptions_mail_each_post_and_daily_digest(demo, client, auth, runner):
    with demo.app_context():
        fid = _forum().id
    auth.login(MARCO)
    client.post(f"/forum/{fid}/subscription", data={"action": "each_post"})
    auth.logout()
    auth.login(TRAINER)
    client.post(f"/forum/{fid}/subscription", data={"action": "digest"})
    auth.logout()
    auth.login(SARA)
    _ask(client, fid, "Shift boundaries", "Does the night shift start at 22:00?")
    with demo.app_context():
        mails = db.session.scalars(
            select(OutboundMail).where(OutboundMail.subject.contains("Shift boundaries"))
        ).all()
        assert [m.to for m in mails] == [MARCO]
    result = runner.invoke(args=["forum", "digest"])
    assert "Queued 1 digest mail" in result.output
    with demo.app_context():
        digest = db.session.scalar(
            select(OutboundMail).where(OutboundMail.to == TRAINER).order_by(OutboundMail.id.desc())
        )
        assert "Daily digest" in digest.subject and "night shift" in digest.body
        # From cron there is no request: links still point at SITE_URL, never a bare path.
        site = demo.config["SITE_URL"].rstrip("/")
        assert f"{site}/forum/threads/" in digest.body
    assert "Queued 0 digest mails" in runner.invoke(args=["forum", "digest"]).output
