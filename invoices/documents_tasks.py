"""Celery tasks of the documents area (thin: ids in, a service call). Found by
``app.autodiscover_tasks(related_name="documents_tasks")`` in selfcare/celery.py."""

from celery import shared_task

from invoices.documents import DocumentNotRendered, document_render, stale_document_ids


@shared_task(autoretry_for=(DocumentNotRendered,), retry_backoff=5, retry_backoff_max=600, max_retries=6)
def render_invoice_document(document_id: int) -> bool:
    return document_render(document_id=document_id)


@shared_task
def invoice_documents_sweep() -> int:
    ids = stale_document_ids()
    for document_id in ids:
        render_invoice_document.delay(document_id)
    return len(ids)
