import { useTranslation } from "react-i18next";
import type { NewsState } from "../../api/types";
import { Badge, type BadgeTone } from "../../shared/ui/Badge";

const TONE: Record<NewsState, BadgeTone> = {
  scheduled: "info",
  published: "success",
  expired: "neutral",
  unpublished: "warning",
};

export function NewsStateBadge({ state }: { state: NewsState }) {
  const { t } = useTranslation();
  return (
    <Badge tone={TONE[state]} testId="news-state">
      {t(`console.news.states.${state}`)}
    </Badge>
  );
}
