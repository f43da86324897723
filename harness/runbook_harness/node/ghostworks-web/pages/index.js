export default function Home() {
  return <main>ghostworks-web</main>;
}
