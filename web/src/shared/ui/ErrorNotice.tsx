import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { en } from "../i18n/en";

type KnownCode = keyof typeof en.errors.codes;

function isKnownCode(code: string): code is KnownCode {
  return Object.hasOwn(en.errors.codes, code);
}

/**
 * Shows what the API said: our own wording for the stable codes we know, otherwise the
 * problem's `title` and `detail` as the server wrote them.
 */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  let headline: string;
  let detail: string | undefined;
  if (error instanceof ApiError && isKnownCode(error.code)) {
    headline = t(`errors.codes.${error.code}`);
  } else if (error instanceof ApiError) {
    headline = error.title || t("errors.generic");
    detail = error.detail !== error.title ? error.detail : undefined;
  } else {
    headline = t("errors.generic");
  }
  return (
    <div
      className="notice notice--error"
      role="alert"
      data-testid="error-notice"
      data-code={error instanceof ApiError ? error.code : undefined}
    >
      <p className="notice__headline">{headline}</p>
      {detail && <p className="notice__detail">{detail}</p>}
      {onRetry && (
        <button type="button" className="button button--ghost" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}
