"""The LMS feature's registration: the upload in chat (a file, Apply / Cancel) and the
``lms_sync`` job."""

from __future__ import annotations

from bot.features.lms import sync, upload
from bot.router import Router


def register(router: Router) -> None:
    router.on_file(upload.on_file)
    router.action(upload.APPLY_ACTION)(upload.apply_pressed)
    router.action(upload.CANCEL_ACTION)(upload.cancel_pressed)
    router.job("lms_sync")(sync.run)
