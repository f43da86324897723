// NextAuth's options: Spotify sign-in, JWT sessions, and the cookie policy the deployment sets
// (HttpOnly and SameSite from its configuration; Secure, with the __Secure-/__Host- prefixes,
// when the base URL is https).
import SpotifyProvider from "next-auth/providers/spotify";
import { flag } from "../../../host";

function cookies() {
  const env = process.env;
  const secure = (env.NEXTAUTH_URL ?? "").startsWith("https://");
  const options = {
    httpOnly: flag("SESSION_COOKIE_HTTPONLY"),
    sameSite: (env.SESSION_COOKIE_SAMESITE ?? "lax").toLowerCase(),
    path: "/",
    secure,
  };
  const prefix = secure ? "__Secure-" : "";
  return {
    sessionToken: { name: `${prefix}next-auth.session-token`, options },
    callbackUrl: { name: `${prefix}next-auth.callback-url`, options },
    csrfToken: { name: `${secure ? "__Host-" : ""}next-auth.csrf-token`, options },
  };
}

export function authOptions() {
  const env = process.env;
  return {
    secret: env.NEXTAUTH_SECRET,
    session: { strategy: "jwt" },
    cookies: cookies(),
    providers: [
      SpotifyProvider({
        clientId: env.SPOTIFY_CLIENT_ID ?? "",
        clientSecret: env.SPOTIFY_CLIENT_SECRET ?? "",
      }),
    ],
  };
}
