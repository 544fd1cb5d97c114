"""Threaded display of a discussion: each reply right under the post it answers, indented.

A pure function over the thread's posts (already loaded in one query), so the page's query
count does not grow with the number of replies.
"""

from __future__ import annotations

from dataclasses import dataclass

from courses.forum.models import ForumPost

#: Deepest indentation shown; replies deeper than this stay at this level (and say whom they
#: answer), so a long back-and-forth stays readable on a phone.
MAX_DEPTH = 3


@dataclass(frozen=True)
class ThreadedPost:
    """A post with its place in the thread."""

    post: ForumPost
    depth: int  # indentation: 0 for the opening post and the replies to it
    parent: ForumPost | None  # the post it answers (None for the opening post)


def nest(posts: list[ForumPost], max_depth: int = MAX_DEPTH) -> list[ThreadedPost]:
    """``posts`` (oldest first) in reading order: every reply follows the post it answers and
    its earlier siblings' replies, one level deeper, at most ``max_depth`` levels."""
    by_id = {p.id: p for p in posts}
    children: dict[int, list[ForumPost]] = {}
    roots: list[ForumPost] = []
    for p in posts:
        if p.parent_id is not None and p.parent_id in by_id and p.parent_id != p.id:
            children.setdefault(p.parent_id, []).append(p)
        else:
            roots.append(p)
    out: list[ThreadedPost] = []
    seen: set[int] = set()
    # Depth-first, iteratively (a long chain of replies must not hit the recursion limit).
    stack = [(p, 0) for p in reversed(roots)]
    while stack:
        post, level = stack.pop()
        if post.id in seen:
            continue
        seen.add(post.id)
        parent = by_id.get(post.parent_id) if post.parent_id is not None else None
        out.append(ThreadedPost(post, min(level, max_depth), parent))
        # Replies to the opening post stay at its level; each reply to a reply goes one deeper.
        child_level = level if parent is None else level + 1
        for child in reversed(children.get(post.id, [])):
            stack.append((child, child_level))
    return out
