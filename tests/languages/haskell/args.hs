import qualified Data.ByteString.Char8 as B
import System.IO (stdout)
import System.Posix.Env.ByteString (getArgs)

main :: IO ()
main = do
  args <- getArgs
  mapM_ (\arg -> B.hPut stdout (B.concat [B.pack (show (B.length arg)), B.pack ":", arg, B.pack "\n"])) args
