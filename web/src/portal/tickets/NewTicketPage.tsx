import { useCallback, useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { FilePicker } from "../../shared/tickets/Attachments";
import { filesOk } from "../../shared/tickets/attachments";
import { useTicketCategories } from "../../shared/tickets/categories";
import { DeflectionPanel } from "../kb/DeflectionPanel";
import { recordSuggestions } from "../kb/kb";
import { useMyAttachmentLimits } from "./attachmentLimits";
import { useOpenTicket } from "./tickets";

export function NewTicketPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  usePageTitle(t("portal.tickets.newTitle"));
  const openTicket = useOpenTicket();
  const limits = useMyAttachmentLimits();
  const categories = useTicketCategories("subscriber");
  const [category, setCategory] = useState("");
  const [subject, setSubject] = useState("");
  const [description, setDescription] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  // One visit to the form, for the deflection analytics; and every article it suggested.
  const [formSession] = useState(() => crypto.randomUUID());
  const shown = useRef(new Set<string>());
  const onShown = useCallback((ids: readonly string[]) => {
    for (const id of ids) shown.current.add(id);
  }, []);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (category === "" || !filesOk(files, limits)) return;
    openTicket.mutate(
      { category, subject: subject.trim(), description: description.trim(), files },
      {
        onSuccess: (ticket) => {
          // Analytics only: a failure here must not stand between the subscriber and their
          // ticket, but it is sent before moving on, so the ticket's page (and any count read
          // from it) already knows what the form suggested.
          void recordSuggestions(ticket.id, formSession, [...shown.current])
            .catch(() => undefined)
            .then(() => navigate(`/tickets/${ticket.id}`));
        },
      },
    );
  }

  return (
    <div className="stack narrow">
      <Link to="/tickets" className="back-link">
        ← {t("portal.tickets.backToList")}
      </Link>
      <section className="card" aria-labelledby="new-ticket-title">
        <h1 id="new-ticket-title">{t("portal.tickets.newTitle")}</h1>
        <p className="muted">{t("portal.tickets.newIntro")}</p>
        <form className="form" onSubmit={submit} data-testid="new-ticket-form">
          <Field label={t("ticket.category")}>
            {(control) => (
              <select
                {...control}
                required
                value={category}
                onChange={(e) => {
                  setCategory(e.target.value);
                }}
                data-testid="new-ticket-category"
              >
                <option value="" disabled>
                  {t("ticket.chooseCategory")}
                </option>
                {categories.active.map((c) => (
                  <option key={c.code} value={c.code}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("ticket.subject")} hint={t("portal.tickets.subjectHint")}>
            {(control) => (
              <input
                {...control}
                type="text"
                required
                maxLength={200}
                value={subject}
                onChange={(e) => {
                  setSubject(e.target.value);
                }}
                data-testid="new-ticket-subject"
              />
            )}
          </Field>
          <Field label={t("ticket.description")} hint={t("portal.tickets.descriptionHint")}>
            {(control) => (
              <textarea
                {...control}
                rows={6}
                required
                value={description}
                onChange={(e) => {
                  setDescription(e.target.value);
                }}
                data-testid="new-ticket-description"
              />
            )}
          </Field>
          <DeflectionPanel formSession={formSession} text={`${subject} ${description}`} onShown={onShown} />
          <FilePicker files={files} onChange={setFiles} disabled={openTicket.isPending} limits={limits} />
          {openTicket.isError && <ErrorNotice error={openTicket.error} />}
          <div className="form__actions">
            <button
              type="submit"
              className="button button--primary"
              disabled={openTicket.isPending}
              data-testid="new-ticket-submit"
            >
              {openTicket.isPending ? t("portal.tickets.submitting") : t("portal.tickets.submit")}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
