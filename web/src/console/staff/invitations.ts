import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import { useSignIn } from "../../shared/session/session";
import type { RoleChoice } from "./staff";

const invitationsKey = ["console", "staff", "invitations"] as const;

/** Open invitations (expired ones flagged). */
export function useInvitations() {
  return useQuery({ queryKey: invitationsKey, queryFn: () => data(api.GET("/console/invitations")) });
}

export type Invitation = NonNullable<ReturnType<typeof useInvitations>["data"]>["items"][number];

export function useInvite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: RoleChoice }) => data(api.POST("/console/invitations", { body })),
    onSettled: () => client.invalidateQueries({ queryKey: invitationsKey }),
  });
}

export function useResendInvitation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => data(api.POST("/console/invitations/{id}/resend", { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: invitationsKey }),
  });
}

export function useRevokeInvitation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await data(api.DELETE("/console/invitations/{id}", { params: { path: { id } } }));
    },
    onSettled: () => client.invalidateQueries({ queryKey: invitationsKey }),
  });
}

/** What an invitation link offers (signed out), or why it does not work. */
export function useInvitationPreview(token: string) {
  return useQuery({
    queryKey: ["invitation", token],
    queryFn: () => data(api.POST("/auth/invitation", { body: { token } })),
    enabled: token !== "",
    retry: false,
    staleTime: Infinity,
  });
}

/** Accepts the invitation and adopts the new staff session. */
export function useAcceptInvitation() {
  return useSignIn((body: { token: string; display_name: string; password: string }) =>
    data(api.POST("/auth/invitation/accept", { body })),
  );
}

/** The problem codes of a link that does not work. */
export const DEAD_LINK_CODES = [
  "invitation_invalid",
  "invitation_accepted",
  "invitation_expired",
  "invitation_revoked",
] as const;
export type DeadLinkCode = (typeof DEAD_LINK_CODES)[number];
