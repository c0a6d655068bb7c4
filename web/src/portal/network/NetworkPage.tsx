import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { NetworkUsageView } from "../../shared/network/NetworkUsageView";
import { usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";

/** The subscriber's connection: sessions (online now first) and traffic per day. */
export function MyNetworkPage() {
  const { t } = useTranslation();
  usePageTitle(t("network.title"));
  const usage = useQuery({ queryKey: ["me", "network"], queryFn: () => data(api.GET("/me/network")) });
  return (
    <div className="stack" data-testid="my-network-page">
      <header className="page-header">
        <h1>{t("network.title")}</h1>
      </header>
      <section className="card">
        {usage.isPending && <Loading />}
        {usage.isError && (
          <ErrorNotice
            error={usage.error}
            onRetry={() => {
              void usage.refetch();
            }}
          />
        )}
        {usage.data && <NetworkUsageView usage={usage.data} />}
      </section>
    </div>
  );
}
