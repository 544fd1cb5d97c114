"""Forum pages: a discussion, posting, editing, Q&A answers, moderation, subscriptions, search."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from courses.forum import mail, services
from courses.forum.forms import EditForm, ReasonForm, ReplyForm, ThreadForm
from courses.forum.models import Forum, ForumPost, ForumThread
from courses.forum.threads import nest
from lms.domain.models import Course
from lms.errors import DomainError
from lms.extensions import db
from lms.permissions import can
from lms.urls import parse_id

bp = Blueprint("forum", __name__, url_prefix="/forum")


def _forum(forum_id: int) -> Forum:
    forum = db.get_or_404(Forum, forum_id)
    if not services.may_view(current_user, forum):
        abort(404)  # posts are for the course's learners and staff only: nothing leaks
    return forum


def _thread(thread_id: int) -> ForumThread:
    thread = db.get_or_404(ForumThread, thread_id)
    _forum(thread.forum_id)
    return thread


def _post(post_id: int) -> ForumPost:
    post = db.get_or_404(ForumPost, post_id)
    _forum(post.forum_id)
    return post


def _thread_url(thread: ForumThread, post_id: int | None = None) -> str:
    return url_for("forum.thread", thread_id=thread.id) + (f"#post-{post_id}" if post_id else "")


def _activity_url(forum: Forum) -> str:
    return url_for("courses.activity", slug=forum.course.slug, activity_id=forum.id)


def _thread_page(thread: ForumThread, reply_form: ReplyForm | None = None, status: int = 200):
    forum = thread.forum
    posts = services.thread_posts(thread)
    moderator = services.is_moderator(current_user, forum)
    if status == 200:  # a refused reply changes nothing, not even the read marker
        services.mark_read(thread, current_user)
        db.session.commit()
    form = reply_form or ReplyForm(parent_id=request.args.get("reply_to", ""))
    # The post being answered: a visible reply of this thread. Anything else (the opening post,
    # a hidden or unknown one) makes it a plain reply; a refused reply says why.
    target = {p.id: p for p in posts}.get(parse_id(form.parent_id.data or "") or 0)
    if target is None or not target.visible or target.parent_id is None:
        target, form.parent_id.data = None, ""
    return render_template(
        "forum/thread.html", forum=forum, thread=thread, posts=nest(posts), moderator=moderator,
        first=posts[0] if posts else None, form=form, reason=ReasonForm(), replying_to=target,
        edit_window=services.EDIT_WINDOW, now=services.utcnow(),
    ), status  # fmt: skip


@bp.route("/<int:forum_id>/new", methods=["GET", "POST"])
@login_required
def new_thread(forum_id: int):
    """Start a discussion (a question, in a Q&A forum)."""
    forum = _forum(forum_id)
    form = ThreadForm()
    if form.validate_on_submit():
        try:
            thread = services.start_thread(forum, current_user, form.title.data, form.body.data)
        except DomainError as exc:
            db.session.rollback()
            (form[exc.field].errors if exc.field in form else form.form_errors).append(exc.message)
        else:
            db.session.commit()
            flash("Your discussion was posted.", "success")
            return redirect(_thread_url(thread))
    return render_template("forum/new_thread.html", forum=forum, form=form), (
        400 if form.errors else 200
    )


@bp.get("/threads/<int:thread_id>")
@login_required
def thread(thread_id: int):
    """A discussion with its replies; opening it marks it read."""
    return _thread_page(_thread(thread_id))


@bp.post("/threads/<int:thread_id>/reply")
@login_required
def post_reply(thread_id: int):
    """Reply in a thread (not in a locked one, not to a hidden post)."""
    thread = _thread(thread_id)
    form = ReplyForm()
    if form.validate_on_submit():
        raw = (form.parent_id.data or "").strip()
        parent_id = parse_id(raw)
        parent = db.session.get(ForumPost, parent_id) if parent_id else None
        try:
            if raw and parent is None:
                raise DomainError("The post you replied to no longer exists.", "body")
            post = services.reply(thread, current_user, form.body.data, parent)
        except DomainError as exc:
            db.session.rollback()
            form.body.errors = [*form.body.errors, exc.message]
        else:
            db.session.commit()
            flash("Your reply was posted.", "success")
            return redirect(_thread_url(thread, post.id))
    return _thread_page(thread, form, 400)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int):
    """Edit one's own post within 30 minutes of posting."""
    post = _post(post_id)
    if post.author_id != current_user.id:
        abort(404)  # only one's own posts have an edit page
    form = EditForm(body=post.body) if request.method == "GET" else EditForm()
    refusal = services.edit_refusal(post, current_user, services.utcnow())
    if request.method == "GET" and refusal:
        flash(refusal, "error")
        return redirect(_thread_url(post.thread, post.id))
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.edit_post(post, current_user, form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form.body.errors = [*form.body.errors, exc.message]
        else:
            db.session.commit()
            flash("Your post was updated.", "success")
            return redirect(_thread_url(post.thread, post.id))
    return render_template("forum/edit.html", post=post, forum=post.thread.forum, form=form), (
        400 if form.errors else 200
    )


def _act(post: ForumPost, fn, message: str):
    try:
        fn()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(_thread_url(post.thread, post.id))


@bp.post("/posts/<int:post_id>/report")
@login_required
def report(post_id: int):
    """Report a post to the trainers."""
    post = _post(post_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    return _act(
        post,
        lambda: services.report_post(post, current_user, form.reason.data),
        "Thank you: the course's trainers will look at this post.",
    )


@bp.post("/posts/<int:post_id>/moderate")
@login_required
def moderate(post_id: int):
    """Hide, show again or delete a post, with a reason (trainers)."""
    post = _post(post_id)
    if not services.is_moderator(current_user, post.thread.forum):
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    labels = {"hide": "hidden", "unhide": "shown again", "delete": "deleted"}
    return _act(
        post,
        lambda: services.moderate_post(post, current_user, form.action.data, form.reason.data),
        f"The post was {labels.get(form.action.data, 'changed')}.",
    )


@bp.post("/posts/<int:post_id>/answer")
@login_required
def answer(post_id: int):
    """Mark (or unmark) a reply as the answer of a Q&A question."""
    post = _post(post_id)
    thread = post.thread
    if not (
        services.is_moderator(current_user, thread.forum) or thread.author_id == current_user.id
    ):
        abort(403)
    if not ReasonForm().validate_on_submit():
        abort(400)
    target = None if thread.answer_post_id == post.id else post
    return _act(
        post,
        lambda: services.mark_answer(thread, target, current_user),
        "Marked as the answer." if target else "No reply is marked as the answer now.",
    )


@bp.post("/threads/<int:thread_id>/flags")
@login_required
def flags(thread_id: int):
    """Pin or unpin, lock or unlock a discussion (trainers)."""
    thread = _thread(thread_id)
    if not services.is_moderator(current_user, thread.forum):
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data
    changes = {"pin": {"pinned": True}, "unpin": {"pinned": False},
               "lock": {"locked": True}, "unlock": {"locked": False}}  # fmt: skip
    if action not in changes:
        abort(400)
    try:
        services.set_flags(thread, current_user, **changes[action])
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Discussion {action}ned." if action.endswith("pin") else f"Discussion {action}ed.",
              "success")  # fmt: skip
    return redirect(_thread_url(thread))


@bp.post("/<int:forum_id>/subscription")
@login_required
def subscription(forum_id: int):
    """Subscribe (each post or digest) or unsubscribe."""
    forum = _forum(forum_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    mode = form.action.data or None
    try:
        mail.subscribe(forum, current_user, mode)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash({None: "You are no longer subscribed.", "each_post": "You will get a mail for each "
               "new post.", "digest": "You will get one mail a day with the new posts."}[mode],
              "success")  # fmt: skip
    return redirect(_activity_url(forum))


@bp.get("/<int:forum_id>/reports")
@login_required
def reports(forum_id: int):
    """Posts reported by learners and not yet handled (trainers)."""
    forum = _forum(forum_id)
    if not services.is_moderator(current_user, forum):
        abort(404)
    return render_template(
        "forum/reports.html", forum=forum, reports=services.open_reports(forum), reason=ReasonForm()
    )


@bp.get("/course/<int:course_id>/search")
@login_required
def search(course_id: int):
    """Search the posts of every forum of a course the user may read."""
    course = db.get_or_404(Course, course_id)
    readable = [
        f.id for f in services.course_forums(course.id) if services.may_view(current_user, f)
    ]
    if not readable and not can(current_user, "course.manage", course):
        abort(404)
    query = (request.args.get("q") or "").strip()[:200]
    results = services.search_posts(course.id, readable, query)
    return render_template("forum/search.html", course=course, q=query, results=results)
