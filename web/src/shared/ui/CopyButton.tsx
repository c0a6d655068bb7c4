import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

/** Copies `text` to the clipboard and says so for two seconds. */
export function CopyButton({ text, testId }: { text: string; testId: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => {
      setCopied(false);
    }, 2000);
    return () => {
      clearTimeout(timer);
    };
  }, [copied]);
  return (
    <button
      type="button"
      className="button button--small"
      onClick={() => {
        // The clipboard exists only in a secure context (HTTPS or localhost).
        if (!("clipboard" in navigator)) return;
        void navigator.clipboard.writeText(text).then(() => {
          setCopied(true);
        });
      }}
      data-testid={testId}
    >
      {copied ? t("common.copied") : t("common.copy")}
    </button>
  );
}
