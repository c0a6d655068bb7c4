import { useQuery } from "@tanstack/react-query";
import { api, data } from "../../api/client";
import type { AttachmentLimits } from "../../shared/tickets/attachments";

/**
 * The ISP's limits on the files of one message (`/me/attachment-limits`), for the upload
 * forms; undefined until known (the forms then use the platform's caps, which the server
 * enforces as well).
 */
export function useMyAttachmentLimits(): AttachmentLimits | undefined {
  const limits = useQuery({
    queryKey: ["me", "attachment-limits"],
    queryFn: () => data(api.GET("/me/attachment-limits")),
    staleTime: 5 * 60 * 1000,
  });
  return limits.data;
}
