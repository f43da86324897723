export default function Home() {
  return <main>audiospective</main>;
}
