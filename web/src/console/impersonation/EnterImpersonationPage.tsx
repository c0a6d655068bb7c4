import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { api, data } from "../../api/client";
import { usePageTitle } from "../../shared/site/site";
import { useSignIn } from "../../shared/session/session";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Loading } from "../../shared/ui/Loading";

/**
 * Where the operator console sends the browser: `/console/impersonate#<token>`. The token sits in
 * the fragment, so it never reaches a server log or a Referer; it is exchanged once for this
 * host's console session and wiped from the address bar.
 */
export function EnterImpersonationPage() {
  const { t } = useTranslation();
  usePageTitle(t("operatorSupport.entering"));
  const navigate = useNavigate();
  const enter = useSignIn((token: string) => data(api.POST("/auth/impersonation", { body: { token } })));
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const token = window.location.hash.slice(1);
    window.history.replaceState(null, "", window.location.pathname);
    enter.mutate(token, {
      onSuccess: () => {
        void navigate("/console/tickets", { replace: true });
      },
    });
  }, [enter, navigate]);
  return (
    <div className="stack">
      <h1>{t("operatorSupport.entering")}</h1>
      {enter.isError ? (
        <>
          <ErrorNotice error={enter.error} />
          <Link to="/console">{t("operatorSupport.toSignIn")}</Link>
        </>
      ) : (
        <Loading />
      )}
    </div>
  );
}
