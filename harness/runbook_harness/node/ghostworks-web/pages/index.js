// The home page, rendered on the server with the API's public URL: a build or deployment without
// NEXT_PUBLIC_API_URL cannot render it (the URL does not parse), as the real app cannot load.
export async function getServerSideProps() {
  const api = new URL(process.env["NEXT_PUBLIC_API_URL"] ?? "");
  return { props: { api: api.origin } };
}

export default function Home({ api }) {
  return <main data-api={api}>ghostworks-web</main>;
}
