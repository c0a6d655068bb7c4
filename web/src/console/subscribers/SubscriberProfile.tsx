import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { useHasPermission } from "./billing";
import { ProblemDetail } from "./ProblemDetail";
import { orNull, type SubscriberDraft } from "./draft";
import { SubscriberFields } from "./SubscriberFields";
import {
  SUBSCRIBERS_READ,
  SUBSCRIBERS_WRITE,
  useInvite,
  useSetBlock,
  useSubscriber,
  useUpdateSubscriber,
} from "./subscribers";
import type { SubscriberView } from "../../api/types";
import "./subscribers.css";

/** Contacts and address of a subscriber, with edit, block/unblock and invitation for staff allowed to. */
export function SubscriberProfile({ accountNumber }: { accountNumber: string }) {
  const { t } = useTranslation();
  const mayRead = useHasPermission(SUBSCRIBERS_READ);
  const mayWrite = useHasPermission(SUBSCRIBERS_WRITE);
  const subscriber = useSubscriber(accountNumber, mayRead);
  const [editing, setEditing] = useState(false);
  if (!mayRead || subscriber.isPending || subscriber.isError) return null;
  const s = subscriber.data;
  return (
    <section className="card subscriber-profile" data-testid="subscriber-profile" data-staff-blocked={s.staff_blocked}>
      {editing ? (
        <EditForm
          subscriber={s}
          onDone={() => {
            setEditing(false);
          }}
        />
      ) : (
        <>
          <dl className="subscriber-profile__facts">
            <div>
              <dt>{t("console.subscribers.fields.phone")}</dt>
              <dd data-testid="subscriber-phone">{s.phone ?? "—"}</dd>
            </div>
            <div>
              <dt>{t("console.subscribers.fields.email")}</dt>
              <dd data-testid="subscriber-email">{s.email ?? "—"}</dd>
            </div>
            <div>
              <dt>{t("console.subscribers.fields.address")}</dt>
              <dd data-testid="subscriber-address">{s.address ?? "—"}</dd>
            </div>
            <div>
              <dt>{t("console.subscribers.signIn")}</dt>
              <dd>{s.has_password ? t("console.subscribers.hasPassword") : t("console.subscribers.noPassword")}</dd>
            </div>
          </dl>
          {s.staff_blocked && (
            <p className="notice notice--warning" data-testid="subscriber-staff-blocked">
              {t("console.subscribers.staffBlocked")}
            </p>
          )}
          {mayWrite && (
            <Actions
              subscriber={s}
              onEdit={() => {
                setEditing(true);
              }}
            />
          )}
        </>
      )}
    </section>
  );
}

function Actions({ subscriber, onEdit }: { subscriber: SubscriberView; onEdit: () => void }) {
  const { t } = useTranslation();
  const block = useSetBlock(subscriber.account_number);
  const invite = useInvite(subscriber.account_number);
  return (
    <>
      <div className="form__actions subscriber-profile__actions">
        <button type="button" className="button button--small" onClick={onEdit} data-testid="subscriber-edit">
          {t("console.subscribers.edit")}
        </button>
        <button
          type="button"
          className="button button--small"
          disabled={block.isPending || subscriber.status === undefined}
          onClick={() => {
            block.mutate(!subscriber.staff_blocked);
          }}
          data-testid={subscriber.staff_blocked ? "subscriber-unblock" : "subscriber-block"}
        >
          {subscriber.staff_blocked ? t("console.subscribers.unblock") : t("console.subscribers.block")}
        </button>
        {subscriber.email && (
          <button
            type="button"
            className="button button--small button--ghost"
            disabled={invite.isPending}
            onClick={() => {
              invite.mutate();
            }}
            data-testid="subscriber-invite"
          >
            {t("console.subscribers.invite")}
          </button>
        )}
      </div>
      {invite.isSuccess && (
        <p className="notice notice--success" role="status" data-testid="subscriber-invited">
          {t("console.subscribers.invited", { email: subscriber.email ?? "" })}
        </p>
      )}
      {block.isError && <ErrorNotice error={block.error} />}
      {invite.isError && <ErrorNotice error={invite.error} />}
    </>
  );
}

function EditForm({ subscriber, onDone }: { subscriber: SubscriberView; onDone: () => void }) {
  const { t } = useTranslation();
  const update = useUpdateSubscriber(subscriber.account_number);
  const [draft, setDraft] = useState<SubscriberDraft>({
    account_number: subscriber.account_number,
    full_name: subscriber.full_name,
    email: subscriber.email ?? "",
    phone: subscriber.phone ?? "",
    address: subscriber.address ?? "",
    tariff: subscriber.tariff_code ?? "",
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (update.isPending) return;
    update.mutate(
      {
        full_name: draft.full_name.trim(),
        email: orNull(draft.email),
        phone: orNull(draft.phone),
        address: orNull(draft.address),
        tariff: orNull(draft.tariff),
      },
      { onSuccess: onDone },
    );
  }

  return (
    <form className="form subscriber-form" onSubmit={submit} data-testid="subscriber-edit-form">
      <h2>{t("console.subscribers.edit")}</h2>
      <div className="subscriber-form__grid">
        <SubscriberFields draft={draft} onChange={setDraft} withAccountNumber={false} />
      </div>
      {update.isError && <ProblemDetail error={update.error} />}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={update.isPending} data-testid="subscriber-save">
          {t("console.subscribers.save")}
        </button>
        <button type="button" className="button button--ghost" onClick={onDone}>
          {t("console.subscribers.cancel")}
        </button>
      </div>
    </form>
  );
}
