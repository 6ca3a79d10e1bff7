"""Notices: templates, the outbox, the dispatcher and the channels (Twilio SMS, PDF letters, console).

Public entry points for other packages:
- ``notices.service.enqueue(session, case, template, *, trigger_key, business_date, ...)``: state-machine
  effects and the sweep add an outbox row in their own transaction (flush only; idempotent).
- ``notices.service.cancel_pending_for_case(session, case_id, reason=, at=)``: when a case closes.
- ``notices.service.register_failed_hook(fn)``: called as ``fn(session, notice)`` when a notice fails
  for good (e.g. open a collector task).
- ``notices.dispatcher.dispatch_batch(session_factory, sender, clock, settings, limit)``: the scheduler's
  dispatch job (it also reconciles stale 'sending' rows); ``notices.dispatcher.reconcile(...)`` alone.
- ``notices.channels.twilio_sms.make_sms_sender(settings)``, ``notices.worker.dispatcher_sessionmaker``.
- ``notices.service.build_print_batch(session, settings, day)``: the mail room's daily PDF + CSV.
- ``notices.templates.validate_templates(settings)``: called by ``create_app``.
"""
