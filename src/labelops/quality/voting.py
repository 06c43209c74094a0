"""Majority vote for one item, with an explicit tie rule.

Used on the hot path when an item receives its last label (the batch estimators in
``labelops.quality.aggregation`` work on whole projects). A tie is never broken:
the caller marks the item ``needs_adjudication``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ItemVote", "compute_item_vote"]


@dataclass(frozen=True)
class ItemVote:
    """Outcome of a vote on one item."""

    label: tuple[str, ...] | None
    """Winning label key(s); None when tied."""
    share: float
    """Vote share of the winner in [0, 1] (multi-label: the mean share of the decisions)."""
    tied: bool
    """True when no strict majority (single) or some key split exactly in half (multi)."""
    n_votes: int
    """Number of labellers who voted."""


def compute_item_vote(votes: Sequence[Sequence[str]], *, multi_label: bool = False) -> ItemVote:
    """Majority vote of one item's labels.

    Args:
        votes: One entry per labeller: the key(s) they chose, shape ``(n_labellers,)``.
        multi_label: Decide each key separately (binary relevance): a key is in the
            final label when more than half the labellers chose it; exactly half is a tie.

    Returns:
        The vote. Single-label: the plurality key, tied when two keys share the top count.

    Example:
        >>> compute_item_vote([["spam"], ["spam"], ["ok"]])
        ItemVote(label=('spam',), share=0.666..., tied=False, n_votes=3)
    """
    n_votes = len(votes)
    if n_votes == 0:
        return ItemVote(label=None, share=0.0, tied=False, n_votes=0)
    if not multi_label:
        counts = Counter(vote[0] for vote in votes if vote)
        ranked = counts.most_common()
        if not ranked:
            return ItemVote(label=None, share=0.0, tied=False, n_votes=n_votes)
        top_key, top_count = ranked[0]
        tied = len(ranked) > 1 and ranked[1][1] == top_count
        return ItemVote(
            label=None if tied else (top_key,),
            share=top_count / n_votes,
            tied=tied,
            n_votes=n_votes,
        )
    counts = Counter(key for vote in votes for key in set(vote))
    chosen: list[str] = []
    shares: list[float] = []
    tied = False
    for key, count in sorted(counts.items()):
        if count * 2 == n_votes:
            tied = True
        elif count * 2 > n_votes:
            chosen.append(key)
            shares.append(count / n_votes)
        else:
            shares.append(1 - count / n_votes)
    share = sum(shares) / len(shares) if shares else 1.0
    return ItemVote(label=None if tied else tuple(chosen), share=share, tied=tied, n_votes=n_votes)
