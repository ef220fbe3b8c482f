"""Weekly picks: a short digest of talks and articles per channel, links people share, and the
"Useful" button whose votes shape the next digest.

Jobs: ``weekly_picks`` (args ``{office: <id>}``, ``{channel: <key>}`` or none for every channel
with ``weekly_picks: true``) and ``refresh_feeds`` (fetch only, so items accumulate between
digests). Commands: ``/learning share <link> [why]``, ``/learning suggestions`` and
``/learning feeds`` (learning managers). The HTTP client is injectable: pass
``client_factory`` to :func:`register_with` (tests, the benchmark).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AppConfig, Channel, Office
from bot.errors import UserError
from bot.features.picks import actions, store
from bot.features.picks.choose import choose
from bot.features.picks.digest import digest_message
from bot.features.picks.fetch import (
    FeedFetch,
    PageError,
    check_share_url,
    fetch_feeds,
    fetch_page,
    make_client,
    unwrap_links,
)
from bot.features.picks.links import link_key
from bot.features.picks.text import clean
from bot.i18n import N_, Translator
from bot.messages import Button, Buttons, Fields, Header, LinkCard, Message, Note, Text, plain
from bot.outbox import ToChannel, ToPerson, already_planned
from bot.people import get_or_create_by_email
from bot.router import Context, Reply, Router
from bot.scope import recipients_for
from storage.models import Person
from storage.picks import SUGGESTION_SOURCE, FeedState, FetchStatus, PickItem, Suggestion, SuggestionStatus

if TYPE_CHECKING:
    from bot.core import Learnbot

logger = logging.getLogger(__name__)

ClientFactory = Callable[[float], httpx.AsyncClient]
DECIDED: dict[str, str] = {
    SuggestionStatus.APPROVED: N_("approved"),
    SuggestionStatus.REJECTED: N_("rejected"),
}
SUGGESTIONS_SHOWN = 15  # 3 blocks each stays well under Slack's 50-block limit
SHARE_USAGE = N_(
    "Share a link like this: `/learning share https://example.org/article why it's worth reading`"
)


# -- fetching -------------------------------------------------------------------------------
async def refresh(
    app: Learnbot, session: AsyncSession, client_factory: ClientFactory
) -> tuple[list[FeedFetch], int]:
    """Fetch every configured feed (conditionally) and keep what is new in ``session``.

    The validators are read in a short session of their own, so no database connection or
    transaction is held while the feeds take their time."""
    config = app.config
    if not config.feeds:
        return [], 0
    policy = config.picks
    async with app.sessions() as reader:
        known = await store.validators(reader, config.feeds)
    async with client_factory(policy.fetch_timeout_seconds) as client:
        fetches = await fetch_feeds(
            client,
            config.feeds,
            known,
            per_feed_seconds=policy.fetch_timeout_seconds,
            concurrency=policy.max_concurrent_fetches,
        )
    new = await store.save_fetches(session, fetches, app.clock.now())
    return fetches, new


# -- the digest -----------------------------------------------------------------------------
def iso_week(now: datetime, timezone: str) -> str:
    year, week, _ = now.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def targets(config: AppConfig, args: dict[str, Any]) -> list[tuple[Office, Channel]]:
    """The channels a ``weekly_picks`` run posts to, from its ``args`` in app.yaml."""
    unknown = sorted(set(args) - {"office", "channel"})
    if unknown:
        raise ValueError(
            f"weekly_picks: unknown argument(s) {', '.join(unknown)}; use {{office: <id>}}, "
            "{channel: <key>} or no args for every channel"
        )
    pairs = [(o, c) for o in config.offices for c in o.channels]
    if "office" in args:
        pairs = [(o, c) for o, c in pairs if o.id == args["office"]]
        if not any(o.id == args["office"] for o in config.offices):
            known = ", ".join(o.id for o in config.offices)
            raise ValueError(f"weekly_picks: no office '{args['office']}' in app.yaml (offices: {known})")
    if "channel" in args:
        pairs = [(o, c) for o, c in pairs if c.key == args["channel"]]
        if not pairs:
            raise ValueError(f"weekly_picks: no channel '{args['channel']}' in app.yaml")
    return [(o, c) for o, c in pairs if c.weekly_picks]


async def weekly_picks(
    app: Learnbot, session: AsyncSession, args: dict[str, Any], client_factory: ClientFactory
) -> str:
    config = app.config
    policy = config.picks
    channels = targets(config, args)
    if not channels:
        return "no channel with weekly_picks: true matches these args"
    now = app.clock.now()
    fetches, new = await refresh(app, session, client_factory)
    feed_ids = [feed.id for feed in config.feeds]
    since = now - timedelta(days=policy.max_age_days)
    done: list[str] = []
    for office, channel in channels:
        week = iso_week(now, office.timezone)
        key = f"picks:{channel.key}:{week}"
        if await already_planned(session, key):
            done.append(f"{channel.key}: already posted for {week}")
            continue
        pool = await store.candidates(session, channel.key, since, feed_ids)
        votes = await store.useful_by_source(session, channel.key)
        chosen = choose(pool, policy.mix.items(), now=now, max_age_days=policy.max_age_days, votes=votes)
        if not chosen:
            done.append(f"{channel.key}: nothing new to post")
            continue
        ids = [c.item_id for c in chosen]
        rows = await store.items(session, ids)
        language = app.i18n.choose(office.locale)  # a channel post speaks the office's language
        message = digest_message(language, policy.title, rows, await store.suggested_by(session, ids))
        planned = await app.plan(session, destination=ToChannel(channel.key), message=message, key=key)
        if not any(p.created for p in planned):
            # Another replica planned this week's digest first, or the channel is on no enabled
            # platform: either way these items were not shown here, so they stay candidates.
            done.append(f"{channel.key}: not planned (already planned elsewhere, or no platform)")
            continue
        await store.record_posted(session, channel.key, ids, week, now)
        done.append(f"{channel.key}: {len(ids)} pick(s)")
    failed = [f for f in fetches if f.status == FetchStatus.FAILED]
    if failed:
        await report_failures(app, session, failed, [office for office, _ in channels])
    summary = f"{new} new item(s); " + "; ".join(done)
    if failed:
        summary += f"; skipped feed(s): {', '.join(f.feed.id for f in failed)}"
    return summary


async def report_failures(
    app: Learnbot, session: AsyncSession, failed: Sequence[FeedFetch], offices: Sequence[Office]
) -> None:
    """Tell the learning managers, privately and once a week per set of failures, which feeds
    were skipped and why, so a dead address gets fixed instead of silently thinning the picks."""
    now = app.clock.now()
    lines = [f"• {f.feed.name or f.feed.id} ({f.feed.url}): {f.error}" for f in failed]

    def message(t: Translator) -> Message:
        return Message(
            text=t._("Some picks feeds could not be read:") + "\n" + "\n".join(lines),
            blocks=[
                Header(t._("Picks feeds skipped")),
                Text(t._("This week's picks were chosen without these feeds:") + "\n" + "\n".join(lines)),
                Note(
                    t._(
                        "If one keeps failing, check its address in app.yaml. "
                        "`/learning feeds` shows each feed's state."
                    )
                ),
            ],
            dm=True,
        )

    digest = hashlib.sha256(",".join(sorted(f.feed.id for f in failed)).encode()).hexdigest()[:12]
    seen: set[str] = set()
    for office in {o.id: o for o in offices}.values():
        week = iso_week(now, office.timezone)
        for email in office.learning_managers:
            if email in seen:
                continue
            seen.add(email)
            person = await get_or_create_by_email(session, app.config, email, now)
            await app.plan(
                session,
                destination=ToPerson(person.id),
                message=message(app.translator_for(person)),
                key=f"picks-feeds-failed:{week}:{digest}:{person.id}",
            )


# -- useful votes ---------------------------------------------------------------------------
async def useful(ctx: Context, value: str) -> Reply:
    item = await ctx.session.get(PickItem, int(value)) if value.isdigit() else None
    if item is None:
        return plain(ctx._("That pick is no longer available, so I couldn't count your vote."))
    counted, total = await store.vote(ctx.session, item.id, ctx.person.id, ctx.now)
    others = (
        ctx._("{n} people found it useful so far.", n=total)
        if total > 1
        else ctx._("You're the first to say so.")
    )
    if not counted:
        said = ctx._("You already marked “{title}” as useful; each person counts once.", title=item.title)
        return plain(f"{said} {others}")
    return plain(ctx._("Thanks! I noted that “{title}” was useful.", title=item.title) + " " + others)


# -- suggestions ----------------------------------------------------------------------------
async def share(ctx: Context, args: str, *, client_factory: ClientFactory = make_client) -> Reply:
    link, _, why_text = unwrap_links(args).strip().partition(" ")
    if not link:
        raise UserError(ctx._(SHARE_USAGE))
    try:
        url = check_share_url(link)
    except PageError as refusal:
        raise UserError(refusal.args[0]) from None
    existing = await store.suggestion_for_url(ctx.session, url)
    if existing is not None:
        return _already_shared(ctx, existing)
    policy = ctx.config.picks
    timeout = policy.page_timeout_seconds
    try:
        async with client_factory(timeout) as client, asyncio.timeout(timeout):
            page = await fetch_page(client, url, allow_private=policy.allow_private_hosts)
    except TimeoutError:
        raise UserError(
            ctx._(
                "That page took longer than {seconds} s to answer, so I couldn't read it. "
                "Check that the link works in a browser and try again.",
                seconds=f"{timeout:g}",
            )
        ) from None
    except PageError as refusal:
        raise UserError(refusal.args[0]) from None
    suggestion = Suggestion(
        url=url,
        title=page.title,
        description=page.description,
        image_url=page.image_url,
        site_name=page.site_name,
        kind=page.kind,
        why=clean(why_text, 300),
        suggested_by_id=ctx.person.id,
        status=SuggestionStatus.PENDING,
        created_at=ctx.now,
    )
    ctx.session.add(suggestion)
    await ctx.session.flush()
    if policy.auto_approve_suggestions or ctx.is_learning_manager:
        await _approve(ctx.session, suggestion, ctx.person, ctx.now)
        return plain(ctx._("Thanks! “{title}” will be in an upcoming weekly picks.", title=page.title))
    return await _pass_on(ctx, suggestion)


def _already_shared(ctx: Context, existing: Suggestion) -> Message:
    if existing.status == SuggestionStatus.PENDING:
        said = ctx._(
            "Thanks! Someone already shared “{title}”; it is waiting for the learning manager.",
            title=existing.title,
        )
    elif existing.status == SuggestionStatus.APPROVED:
        said = ctx._(
            "Thanks! Someone already shared “{title}”; it is already in the picks.", title=existing.title
        )
    else:
        said = ctx._(
            "Thanks! Someone already shared “{title}”; it was looked at already.", title=existing.title
        )
    return plain(said)


async def _pass_on(ctx: Context, suggestion: Suggestion) -> Reply:
    """To the suggester's own office's learning managers (never back to themselves), each in
    their own language."""
    recipients = await recipients_for(ctx.session, ctx.config, ctx.person, ctx.now)
    for manager in recipients.people:
        await ctx.send(
            ToPerson(manager.id),
            _review_message(ctx.app.translator_for(manager), suggestion, ctx.person),
            key=f"picks-suggestion:{suggestion.id}:{manager.id}",
        )
    if not recipients.people:
        return plain(
            ctx._("Thanks! I've kept “{title}” for review, but", title=suggestion.title)
            + " "
            + recipients.nobody(ctx.t)
        )
    return plain(
        ctx._(
            "Thanks! I've passed “{title}” to your learning manager ({who}); "
            "I'll tell you when it's decided.",
            title=suggestion.title,
            who=", ".join(m.name for m in recipients.people),
        )
    )


def _review_message(t: Translator, suggestion: Suggestion, by: Person | None) -> Message:
    heading = t._("New suggestion for the weekly picks")
    name = by.name if by is not None else t._("a colleague")
    why = f" “{suggestion.why}”" if suggestion.why else ""
    return Message(
        text=t._(
            "{heading}: {title} ({url}), from {name}",
            heading=heading,
            title=suggestion.title,
            url=suggestion.url,
            name=name,
        ),
        blocks=[Header(heading), *_review_blocks(t, suggestion, name, why)],
        dm=True,
    )


def _review_blocks(t: Translator, suggestion: Suggestion, name: str, why: str) -> list[Any]:
    return [
        LinkCard(
            title=suggestion.title,
            url=suggestion.url,
            description=suggestion.description,
            source=suggestion.site_name,
            image_url=suggestion.image_url,
        ),
        Note(t._("Suggested by {name}", name=name) + f"{why} · {suggestion.kind}"),
        Buttons(
            [
                Button(t._("Approve"), actions.APPROVE, value=str(suggestion.id), style="primary"),
                Button(t._("Reject"), actions.REJECT, value=str(suggestion.id), style="danger"),
            ]
        ),
    ]


async def _reviews(ctx: Context, suggestion: Suggestion) -> bool:
    """A suggestion is reviewed by the managers of the suggester's office (anyone's if the
    suggester is gone)."""
    by = await store.person(ctx.session, suggestion.suggested_by_id)
    return by is None or ctx.manages(by.office_id)


async def pending_suggestions(ctx: Context, args: str) -> Reply:
    rows = [s for s in await store.pending_suggestions(ctx.session) if await _reviews(ctx, s)]
    if not rows:
        return plain(
            ctx._("No suggestions are waiting. People can share links with `/learning share <link> why`.")
        )
    blocks: list[Any] = [Header(ctx._("Suggestions waiting ({n})", n=len(rows)))]
    for suggestion in rows[:SUGGESTIONS_SHOWN]:
        by = await store.person(ctx.session, suggestion.suggested_by_id)
        why = f" “{suggestion.why}”" if suggestion.why else ""
        blocks += _review_blocks(ctx.t, suggestion, by.name if by else ctx._("a colleague"), why)
    if len(rows) > SUGGESTIONS_SHOWN:
        blocks.append(Note(ctx._("…and {n} more; decide these first.", n=len(rows) - SUGGESTIONS_SHOWN)))
    text = ctx._("Suggestions waiting:") + " " + "; ".join(s.title for s in rows[:SUGGESTIONS_SHOWN])
    return Message(text=text, blocks=blocks, dm=True)


async def _approve(session: AsyncSession, suggestion: Suggestion, manager: Person, now: datetime) -> None:
    item = PickItem(
        source_key=SUGGESTION_SOURCE,
        guid=suggestion.url[:700],
        url=suggestion.url,
        link_key=link_key(suggestion.url),
        title=suggestion.title,
        kind=suggestion.kind,
        source=suggestion.site_name,
        speaker="",
        duration_seconds=None,
        summary=suggestion.description,
        image_url=suggestion.image_url,
        published_at=None,
        first_seen_at=now,
        suggested_by_id=suggestion.suggested_by_id,
    )
    session.add(item)
    await session.flush()
    suggestion.item_id = item.id
    suggestion.status = SuggestionStatus.APPROVED
    suggestion.decided_at = now
    suggestion.decided_by_id = manager.id


async def approve(ctx: Context, value: str) -> Reply:
    return await decide(ctx, value, approve=True)


async def reject(ctx: Context, value: str) -> Reply:
    return await decide(ctx, value, approve=False)


async def decide(ctx: Context, value: str, *, approve: bool) -> Reply:
    if not ctx.is_learning_manager:
        raise UserError(ctx._("Only a learning manager can approve or reject suggestions."))
    suggestion = await ctx.session.get(Suggestion, int(value)) if value.isdigit() else None
    if suggestion is None:
        return plain(ctx._("That suggestion no longer exists."))
    if not await _reviews(ctx, suggestion):
        raise UserError(
            ctx._("Sorry, that suggestion came from an office you don't manage, so I left it as it was.")
        )
    if suggestion.status != SuggestionStatus.PENDING:
        decider = await store.person(ctx.session, suggestion.decided_by_id)
        status = ctx._(DECIDED.get(suggestion.status, suggestion.status))
        said = ctx._("“{title}” was already {status}.", title=suggestion.title, status=status)
        return plain(f"{said} ({decider.name})" if decider else said)
    author = await store.person(ctx.session, suggestion.suggested_by_id)
    t = ctx.app.translator_for(author) if author is not None else ctx.t
    if approve:
        await _approve(ctx.session, suggestion, ctx.person, ctx.now)
        news = t._(
            "Good news: your suggestion “{title}” was approved for the weekly picks.", title=suggestion.title
        )
    else:
        suggestion.status = SuggestionStatus.REJECTED
        suggestion.decided_at = ctx.now
        suggestion.decided_by_id = ctx.person.id
        news = t._(
            "Thanks for suggesting “{title}”. It won't be in the weekly picks this time; "
            "please keep sharing what you find useful.",
            title=suggestion.title,
        )
    if suggestion.suggested_by_id and suggestion.suggested_by_id != ctx.person.id:
        await ctx.send(
            ToPerson(suggestion.suggested_by_id),
            plain(news, dm=True),
            key=f"picks-suggestion-decided:{suggestion.id}",
        )
    if approve:
        return plain(ctx._("Approved: “{title}”.", title=suggestion.title))
    return plain(ctx._("Rejected: “{title}”.", title=suggestion.title))


async def feed_health(ctx: Context, args: str) -> Reply:
    if not ctx.config.feeds:
        return plain(ctx._("No feeds are configured. Add them under `feeds:` in app.yaml."))
    states = await store.feed_states(ctx.session)
    rows: list[tuple[str, str]] = []
    for feed in ctx.config.feeds:
        state = states.get(feed.id)
        rows.append((feed.name or feed.id, _health(ctx.t, state)))
    return Message(
        text="\n".join(f"{name}: {what}" for name, what in rows),
        blocks=[Header(ctx._("Picks feeds")), Fields(rows)],
        dm=True,
    )


def _health(t: Translator, state: FeedState | None) -> str:
    if state is None or state.last_fetched_at is None:
        return t._("not fetched yet")
    when = f"{state.last_fetched_at:%Y-%m-%d %H:%M} UTC"
    if state.last_status == FetchStatus.FAILED:
        return t.ngettext(
            "failed {n} time in a row, last at {when}: {error}",
            "failed {n} times in a row, last at {when}: {error}",
            state.consecutive_failures,
            when=when,
            error=state.last_error,
        )
    return t._("OK, last read {when}", when=when)


# -- registration --------------------------------------------------------------------------------
async def refresh_feeds(
    app: Learnbot, session: AsyncSession, args: dict[str, Any], *, client_factory: ClientFactory = make_client
) -> str:
    """Fetch the feeds without posting, so items a feed drops before the digest are kept."""
    fetches, new = await refresh(app, session, client_factory)
    failed = [f.feed.id for f in fetches if f.status == FetchStatus.FAILED]
    return f"{len(fetches)} feed(s) fetched, {new} new item(s)" + (
        f", failed: {', '.join(failed)}" if failed else ""
    )


async def weekly_picks_job(
    app: Learnbot, session: AsyncSession, args: dict[str, Any], *, client_factory: ClientFactory = make_client
) -> str:
    return await weekly_picks(app, session, args, client_factory)


def register(router: Router) -> None:
    register_with(router, client_factory=make_client)


def register_with(router: Router, *, client_factory: ClientFactory) -> None:
    """The registration table, with the HTTP client injectable (tests, the benchmark)."""
    router.job("refresh_feeds")(partial(refresh_feeds, client_factory=client_factory))
    router.job("weekly_picks")(partial(weekly_picks_job, client_factory=client_factory))
    router.command(
        "learning", "share", usage="<link> [why]", help=N_("suggest a talk or article for the weekly picks")
    )(partial(share, client_factory=client_factory))
    router.command(
        "learning",
        "suggestions",
        help=N_("review links people of your office(s) suggested for the picks"),
        managers_only=True,
        private=True,
    )(pending_suggestions)
    router.command("learning", "feeds", help=N_("how each picks feed answered lately"), managers_only=True)(
        feed_health
    )
    router.action(actions.USEFUL)(useful)
    router.action(actions.APPROVE, private=True)(approve)
    router.action(actions.REJECT, private=True)(reject)
