import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { Badge } from "../../shared/ui/Badge";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { type useSetOffered } from "./catalogue";

/** On offer or archived. */
export function OfferedBadge({ active }: { active: boolean }) {
  const { t } = useTranslation();
  return active ? (
    <Badge tone="success">{t("catalogue.offered")}</Badge>
  ) : (
    <Badge tone="neutral" testId="catalogue-archived">
      {t("catalogue.archived")}
    </Badge>
  );
}

/** Archive an item, or put it back on offer. */
export function ArchiveButton({
  id,
  active,
  offered,
}: {
  id: string;
  active: boolean;
  offered: ReturnType<typeof useSetOffered>;
}) {
  const { t } = useTranslation();
  return (
    <button
      type="button"
      className="button button--small"
      disabled={offered.isPending}
      onClick={() => {
        offered.mutate({ id, active: !active });
      }}
      data-testid={active ? "catalogue-archive" : "catalogue-unarchive"}
    >
      {active ? t("catalogue.archive") : t("catalogue.unarchive")}
    </button>
  );
}

/** A server refusal of the form: our wording for the code, and which field for a 400. */
export function SaveError({ error }: { error: unknown }) {
  return (
    <>
      <ErrorNotice error={error} />
      {error instanceof ApiError && error.status === 400 && error.detail && (
        <p className="field__error" data-testid="catalogue-problem-detail">
          {error.detail}
        </p>
      )}
    </>
  );
}

export function FieldError({ text }: { text: string | undefined }) {
  return text ? <p className="field__error">{text}</p> : null;
}
