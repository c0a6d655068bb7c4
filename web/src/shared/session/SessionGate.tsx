import type { ReactNode } from "react";
import type { PrincipalKind } from "../../api/types";
import { ErrorNotice } from "../ui/ErrorNotice";
import { Loading } from "../ui/Loading";
import { useSession } from "./session";

/**
 * Renders `children` only for a session of the given kind; anyone else gets `signIn` in place,
 * at the URL they asked for, so after signing in they land where they meant to go.
 */
export function SessionGate({
  kind,
  signIn,
  children,
}: {
  kind: PrincipalKind;
  signIn: ReactNode;
  children: ReactNode;
}) {
  const session = useSession();
  if (session.isPending) return <Loading fill />;
  if (session.isError) {
    return (
      <ErrorNotice
        error={session.error}
        onRetry={() => {
          void session.refetch();
        }}
      />
    );
  }
  return session.data?.kind === kind ? children : signIn;
}
